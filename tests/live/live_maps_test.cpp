// Live-kernel tier: reading real per-CPU hash maps, batched and key by key.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <numeric>

#include "live_support.h"
#include "maps/counter_source.h"
#include "util/bpf_handles.h"

namespace cgio::test {
namespace {

// A map filled from user space with values that identify key, CPU and field.
class FilledMap {
 public:
  FilledMap(uint32_t entries, size_t fields) : fields_(fields), ncpus_(libbpf_num_possible_cpus()) {
    fd_.reset(
        bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "cgio_test", 8, static_cast<uint32_t>(fields * 8), entries, nullptr));
    EXPECT_TRUE(fd_.valid());
    std::vector<uint64_t> value(fields * ncpus_);
    for (uint64_t key = 1; key <= entries; ++key) {
      const uint64_t id = key << 33;  // ids wider than 32 bits
      for (unsigned cpu = 0; cpu < ncpus_; ++cpu) {
        for (size_t f = 0; f < fields; ++f) value[cpu * fields + f] = key * 1000 + f + cpu;
      }
      EXPECT_EQ(bpf_map_update_elem(fd_.get(), &id, value.data(), BPF_ANY), 0);
    }
  }
  int fd() const { return fd_.get(); }
  unsigned ncpus() const { return ncpus_; }
  // Expected sum of field f of key k over all CPUs.
  uint64_t expected(uint64_t key, size_t f) const {
    return ncpus_ * (key * 1000 + f) + static_cast<uint64_t>(ncpus_) * (ncpus_ - 1) / 2;
  }

 private:
  Fd fd_;
  size_t fields_;
  unsigned ncpus_;
};

void check(const CounterSnapshot& snap, const FilledMap& map, uint32_t entries, size_t fields) {
  ASSERT_EQ(snap.keys.size(), entries);
  std::vector<uint64_t> seen;
  for (size_t i = 0; i < snap.keys.size(); ++i) {
    const uint64_t key = snap.keys[i] >> 33;
    seen.push_back(key);
    for (size_t f = 0; f < fields; ++f) ASSERT_EQ(snap.row(i)[f], map.expected(key, f));
  }
  std::sort(seen.begin(), seen.end());
  std::vector<uint64_t> all(entries);
  std::iota(all.begin(), all.end(), 1);
  EXPECT_EQ(seen, all) << "every key exactly once";
}

TEST(LiveMaps, BatchedAndKeyByKeyReadsAgreeAndSumEveryCpu) {
  CGIO_REQUIRE_ROOT();
  constexpr uint32_t entries = 20000;  // several batches
  constexpr size_t fields = 16;
  FilledMap map(entries, fields);
  PerCpuHashSource batched(map.fd(), fields, map.ncpus(), true);
  PerCpuHashSource by_key(map.fd(), fields, map.ncpus(), false);
  auto a = batched.read();
  auto b = by_key.read();
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  check(*a, map, entries, fields);
  check(*b, map, entries, fields);
}

TEST(LiveMaps, EmptyMapReadsAsEmpty) {
  CGIO_REQUIRE_ROOT();
  FilledMap map(0 + 1, 2);
  const uint64_t id = 1ull << 33;
  ASSERT_EQ(bpf_map_delete_elem(map.fd(), &id), 0);
  PerCpuHashSource source(map.fd(), 2, map.ncpus());
  auto snap = source.read();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_TRUE(snap->keys.empty());
}

}  // namespace
}  // namespace cgio::test
