// Prometheus text exposition (format 0.0.4), written straight into a
// bounded buffer that is flushed to the client as it fills: no per-series
// objects, no whole-response string. prometheus-cpp's MetricFamily /
// TextSerializer allocate several objects per series; with tens of thousands
// of cgroups and 32 series each that cost most of a second per scrape and a
// response-sized buffer (docs/BENCHMARKS.md has the figures).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cgio {

class ExpositionWriter {
 public:
  // `sink` receives the text in pieces of about `chunk` bytes; it returns
  // false when the client is gone, after which writing is a no-op.
  explicit ExpositionWriter(std::function<bool(std::string_view)> sink, size_t chunk = 64 * 1024);
  ~ExpositionWriter();

  // # HELP and # TYPE lines of a family; its samples must follow.
  void family(std::string_view name, std::string_view help, std::string_view type);
  // `labels`: a rendered label list without braces (`a="x",b="y"`), may be
  // empty; `extra`: more of the same appended after a comma, may be empty.
  void sample(std::string_view name, std::string_view labels, std::string_view extra, uint64_t value);
  void sample(std::string_view name, std::string_view labels, std::string_view extra, double value);
  // Already formatted exposition text (e.g. from prometheus-cpp).
  void raw(std::string_view text);
  // Flushes what is buffered. Returns false if the client went away.
  bool finish();

  uint64_t bytes() const { return bytes_; }
  bool ok() const { return ok_; }

  // Appends `name="value"`, the value made valid UTF-8 (web/label_value.h)
  // and escaped as the format requires.
  static void append_label(std::string& out, std::string_view name, std::string_view value);

 private:
  // Room for `n` more bytes, flushing first if the chunk would overflow.
  char* reserve(size_t n);
  void put(std::string_view s) {
    std::memcpy(end_, s.data(), s.size());
    end_ += s.size();
  }
  void flush();

  std::function<bool(std::string_view)> sink_;
  // A fixed buffer filled with memcpy: the writer's inner loop is appends,
  // and std::string's per-append capacity checks showed in profiles.
  std::vector<char> buf_;
  char* end_ = nullptr;
  size_t chunk_;
  uint64_t bytes_ = 0;
  bool ok_ = true;
};

}  // namespace cgio
