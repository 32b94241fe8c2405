// Owners for every libbpf and kernel handle: a descriptor, an object, a
// link, a ring buffer reader each close exactly once, in their destructors.
#pragma once

#include <unistd.h>

#include <memory>
#include <utility>

struct bpf_object;
struct bpf_link;
struct btf;
struct ring_buffer;

namespace cgio {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

struct BpfObjectCloser {
  void operator()(bpf_object* obj) const;
};
struct BpfLinkDestroyer {
  void operator()(bpf_link* link) const;
};
struct BtfFreer {
  void operator()(btf* b) const;
};
struct RingBufferFreer {
  void operator()(ring_buffer* rb) const;
};

using BpfObjectPtr = std::unique_ptr<bpf_object, BpfObjectCloser>;
using BpfLinkPtr = std::unique_ptr<bpf_link, BpfLinkDestroyer>;
using BtfPtr = std::unique_ptr<btf, BtfFreer>;
using RingBufferPtr = std::unique_ptr<ring_buffer, RingBufferFreer>;

}  // namespace cgio
