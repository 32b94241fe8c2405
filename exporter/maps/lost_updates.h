// Updates the BPF programs could not store (the cgio_map_full slots,
// contracts/common.h) are counted and exported; this logs the first loss of
// each map and reason once, when it starts, with what to do about it, so a
// full map is not only a counter nobody graphs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cgio {

class LostUpdateLog {
 public:
  // `map_names`: per enum cgio_map_id, empty for maps not in use.
  // `map_entries`: --bpf.map-entries, named in the advice.
  LostUpdateLog(std::vector<std::string> map_names, uint32_t map_entries);

  // Given the summed slots (map * CGIO_LOST_MAX + reason), logs each
  // (map, reason) seen losing updates for the first time; returns how many
  // lines it logged.
  size_t check(std::span<const uint64_t> slots);

 private:
  std::vector<std::string> map_names_;
  uint32_t map_entries_;
  std::vector<bool> logged_;
};

}  // namespace cgio
