// What the tracker knows that the counter maps do not: the totals folded out
// of cgroups that ended (their map entries are deleted), each unit
// instance's start, and the units that ended. With pinned maps
// (maps/pin_dir.h) this is the rest of the state a restarted exporter needs
// so that no counter goes back and a unit running across the restart gets
// one record with all of its I/O.
//
// Kept as a journal of JSON lines: a header naming the boot and the pinned
// generation map it belongs to, then one line per change, written with one
// write(2) before the change reaches the maps (a fold is journalled before
// the cgroup's entries are deleted). A process killed at any point leaves
// every change it made to the maps in the file: the page cache outlives the
// process, so there is no fsync; the file lives as long as the pins (tmpfs
// /run, until reboot). When the journal has grown it is replaced by a
// snapshot (the state as one line per series) through a rename.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "cgroups/tracker.h"
#include "util/bpf_handles.h"
#include "util/result.h"

namespace cgio {

// One series as the journal keeps it.
struct SeriesState {
  SeriesKey key;
  std::vector<uint64_t> ended[kCounterDomains];
  std::vector<uint64_t> instance_start[kCounterDomains];
  bool open = false;               // a unit instance is running
  std::vector<uint64_t> unit_ids;  // its unit cgroups, while open
  std::chrono::system_clock::time_point first_seen{};
  std::optional<std::chrono::system_clock::time_point> ended_at;
  InfoLabels info;
};

// The state a journal held.
struct RestoredState {
  std::vector<SeriesState> series;
  // Units that ended since the last snapshot (or kept by it): their records
  // may not have reached the accounting file.
  std::vector<EndedUnit> ended_units;
  // Cgroups folded: entries still in the maps were folded just before the
  // process died and must go; events naming them again are stale.
  std::unordered_set<uint64_t> folded_ids;
  std::chrono::system_clock::time_point saved_at{};  // the journal's last write
  size_t lines = 0;
  size_t unreadable = 0;  // lines cut by a crash or not understood
};

// Applies journal `text` (after its header) to a state; exposed for tests.
RestoredState replay_journal(std::string_view text);

// Thread-safe: scrapes journal expiries while the event thread folds.
class StateJournal {
 public:
  // Opens the journal at `path` for the maps of generation map `maps_id` in
  // boot `boot_id`. The previous state is returned when the file is of the
  // same boot and maps; otherwise it is set aside (`why` says why) and a new
  // journal starts.
  struct Opened;
  static Result<Opened> open(const std::string& path, std::string boot_id, uint32_t maps_id);

  void folded(uint64_t id, const SeriesKey& key, std::span<const std::vector<uint64_t>> finals);
  // A unit cgroup joined series `key`; `first`: it starts a new instance.
  void unit_added(const SeriesKey& key, uint64_t id, bool first, std::chrono::system_clock::time_point first_seen);
  void unit_ended(const EndedUnit& u);
  void series_ended(const SeriesKey& key, std::chrono::system_clock::time_point at);
  void expired(const SeriesKey& key);
  void info_found(const SeriesKey& key, const InfoLabels& info);

  // Whether the journal should be replaced by a snapshot (grown, or a write
  // failed and it was dropped).
  bool wants_snapshot() const;
  // Replaces the journal with `series`; `keep_ended`: also carries over the
  // units ended since the last snapshot (records still to be written).
  Result<void> snapshot(const std::vector<SeriesState>& series, bool keep_ended);

  uint64_t write_errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  const std::string& path() const { return path_; }

 private:
  StateJournal() = default;
  void append(const std::string& line);
  void append_locked(const std::string& line);
  std::string header() const;

  mutable std::mutex mutex_;
  std::string path_, boot_id_;
  uint32_t maps_id_ = 0;
  Fd fd_;
  bool broken_ = false;  // a write failed: the file was removed until the next snapshot
  uint64_t errors_ = 0;
  size_t bytes_ = 0, snapshot_bytes_ = 0;
};

struct StateJournal::Opened {
  std::unique_ptr<StateJournal> journal;
  std::optional<RestoredState> state;
  std::string why;  // when no state: why the file's was not taken
};

}  // namespace cgio
