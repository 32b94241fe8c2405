// Reading counter maps: a snapshot of every cgroup's counters, per-CPU
// copies already summed. CounterSource is an interface so collectors can be
// tested with fixed data; PerCpuHashSource reads a live BPF map.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "util/result.h"

namespace cgio {

struct CounterSnapshot {
  size_t fields = 0;           // u64 counters per value
  std::vector<uint64_t> keys;  // cgroup ids
  std::vector<uint32_t> subs;  // second key part (mount index) for two-part keys, else empty
  std::vector<uint64_t> sums;  // keys.size() * fields, row by row

  std::span<const uint64_t> row(size_t i) const { return {sums.data() + i * fields, fields}; }
};

class CounterSource {
 public:
  virtual ~CounterSource() = default;
  // Fills `out`, reusing its storage (scrapes of tens of thousands of
  // cgroups would otherwise fault in megabytes of fresh pages each time).
  virtual Result<void> read(CounterSnapshot& out) = 0;
  Result<CounterSnapshot> read() {
    CounterSnapshot s;
    if (auto r = read(s); !r) return std::move(r).error();
    return s;
  }
  // Entries the map can hold (0: not known).
  virtual size_t capacity() const { return 0; }
};

// Adds `ncpus` consecutive per-CPU copies of a value of percpu.size() / ncpus
// u64 counters (the layout the kernel returns for per-CPU maps) into `out`;
// `out` may be shorter than a value (the counters past it are left out).
void sum_percpu(std::span<const uint64_t> percpu, size_t ncpus, std::span<uint64_t> out);

// A BPF_MAP_TYPE_PERCPU_HASH with __u64 keys (or, `two_part_keys`, the
// 16-byte struct cgio_mount_key) and values of `fields` __u64.
// Reads with BPF_MAP_LOOKUP_BATCH; falls back to key-by-key iteration on
// kernels or maps without batch support (or always iterates when
// `use_batch` is false). `batch_entries` sets the entries asked for per
// batch call (0: about 256 KiB of values; the benchmark measures others).
class PerCpuHashSource final : public CounterSource {
 public:
  PerCpuHashSource(int map_fd, size_t fields, unsigned possible_cpus, bool use_batch = true, bool two_part_keys = false,
                   uint32_t batch_entries = 0);
  using CounterSource::read;
  Result<void> read(CounterSnapshot& out) override;
  size_t capacity() const override { return capacity_; }

 private:
  Result<void> read_batched(CounterSnapshot& out);
  Result<void> read_by_key(CounterSnapshot& out);
  void append(CounterSnapshot& out, const uint64_t* key, const uint64_t* percpu) const;

  const int fd_;
  const size_t fields_;
  const unsigned ncpus_;
  const size_t key_words_;  // key size in u64
  std::mutex mutex_;
  bool batch_ = true;
  uint32_t batch_entries_;
  size_t capacity_ = 0;
  std::vector<uint64_t> key_buf_, value_buf_;
};

// Per-index sums of a BPF_MAP_TYPE_PERCPU_ARRAY of __u64.
Result<std::vector<uint64_t>> read_percpu_array(int map_fd, uint32_t entries, unsigned possible_cpus);

}  // namespace cgio
