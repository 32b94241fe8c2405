#include "maps/lost_updates.h"

#include "util/log.h"

#include "contracts/common.h"

namespace cgio {

LostUpdateLog::LostUpdateLog(std::vector<std::string> map_names, uint32_t map_entries)
    : map_names_(std::move(map_names)), map_entries_(map_entries), logged_(CGIO_LOST_SLOTS, false) {}

size_t LostUpdateLog::check(std::span<const uint64_t> slots) {
  static const char* const reasons[CGIO_LOST_MAX] = {"full", "nomem", "busy", "other"};
  size_t lines = 0;
  for (size_t map = 0; map < map_names_.size() && map < CGIO_MAP_MAX; ++map) {
    if (map_names_[map].empty()) continue;
    for (size_t reason = 0; reason < CGIO_LOST_MAX; ++reason) {
      const size_t slot = map * CGIO_LOST_MAX + reason;
      if (slot >= slots.size() || slots[slot] == 0 || logged_[slot]) continue;
      logged_[slot] = true;
      ++lines;
      const std::string& name = map_names_[map];
      if (reason == CGIO_LOST_FULL) {
        log::error("BPF map " + name + " is full: I/O of cgroups without an entry is not counted (logged once; " +
                       "counted in cgio_bpf_map_full_total{map=\"" + name + "\"}); raise --bpf.map-entries",
                   {{"map", name},
                    {"map_entries", std::to_string(map_entries_)},
                    {"lost_so_far", std::to_string(slots[slot])}});
      } else {
        log::error("BPF map " + name + " refused entries: I/O of those cgroups is not counted (logged once; " +
                       "counted in cgio_bpf_map_update_failures_total{map=\"" + name + "\",reason=\"" +
                       reasons[reason] + "\"})",
                   {{"map", name}, {"reason", reasons[reason]}, {"lost_so_far", std::to_string(slots[slot])}});
      }
    }
  }
  return lines;
}

}  // namespace cgio
