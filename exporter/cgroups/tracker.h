// Per-unit accounting: which series (workload, workload_id, cgroup, step) a
// cgroup's counters belong to, and what happens when cgroups end.
//
// A cgroup's counters live in the kernel maps while it exists. When it is
// removed, its final values are read, added to its series' "ended" totals,
// and its map entries are deleted, so the maps hold live cgroups only and
// nothing done between the last scrape and the end is lost. A series whose
// unit cgroup is removed keeps reporting its final totals for the retention
// time, then disappears; a unit ending writes one accounting record with
// the totals of that instance. A new instance with the same labels (a
// restarted service) continues the same series, so counters stay monotonic.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cgroups/workload_info.h"
#include "cgroups/workloads.h"
#include "maps/counter_domains.h"
#include "maps/counter_source.h"
#include "maps/counter_store.h"

namespace cgio {

struct SeriesKey {
  std::string workload;
  std::string workload_id;
  std::string cgroup;  // the unit's path
  std::string step;    // Slurm step in step mode, else empty (no label)
  auto operator<=>(const SeriesKey&) const = default;
};

// One unit instance that ended, for the accounting file.
struct EndedUnit {
  SeriesKey key;
  uint64_t cgroup_id = 0;  // the key (CgroupSpace) of the unit cgroup removed last
  std::chrono::system_clock::time_point first_seen, ended;
  std::vector<uint64_t> totals[kCounterDomains];  // this instance only
  InfoLabels info;                                // cgio_workload_info's labels, as found
  // Set when the unit ended while no exporter ran and no event said when:
  // it ended at an unknown time between this and `ended`.
  std::optional<std::chrono::system_clock::time_point> ended_after;
};

class StateJournal;
struct SeriesState;
struct RestoredState;

class CgroupTracker {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `widths`: the number of u64 counters per domain (CounterDomainSpec::width),
  // 0 for a domain not counted.
  CgroupTracker(WorkloadClassifier classifier, std::chrono::seconds retain, CounterStore& store,
                std::array<size_t, kCounterDomains> widths, Clock clock,
                std::function<void(const EndedUnit&)> on_unit_end);

  // A cgroup that exists (found by a walk or by resolving an unknown id).
  void discovered(uint64_t id, const std::string& path);
  // A cgroup created (mkdir event), at `at` when the event says when.
  void created(uint64_t id, const std::string& path,
               std::optional<std::chrono::system_clock::time_point> at = std::nullopt);
  // A cgroup removed: fold its values into its series, delete its map
  // entries, end its unit if it was the unit's cgroup. `path` is used when
  // the id was never seen; empty when unknown.
  void removed(uint64_t id, const std::string& path,
               std::optional<std::chrono::system_clock::time_point> at = std::nullopt);
  // A cgroup renamed or moved (the kernel keeps its id).
  void renamed(uint64_t id, const std::string& new_path);

  // Names units (cgio_workload_info) through `info`; `dir_of` turns a
  // cgroup's key and path into its directory. Without it units have no info.
  void set_info(std::shared_ptr<const WorkloadInfo> info,
                std::function<std::string(uint64_t key, const std::string& path)> dir_of);
  // Looks up the names of units not named yet (their tasks may have started
  // since the last try): every 100 ms for a unit's first second, then every
  // second, 60 tries in all.
  // Called from the event reader's thread; the lookups run unlocked.
  void name_units();
  // Every unit series reported (alive or retained) with its info labels:
  // the series and the info found so far.
  std::vector<std::pair<SeriesKey, InfoLabels>> unit_info() const;

  // Pinned maps (cgroups/tracker_state.h): every change the maps do not
  // hold is journalled, before the maps change.
  void set_journal(StateJournal* journal);
  // Before the first walk: takes the state a previous process journalled.
  // Map entries of cgroups it folded that are gone (`exists` says) are
  // deleted, and later events about them ignored: they were folded already.
  void restore(RestoredState state, const std::function<bool(uint64_t)>& exists);
  // After the first walk and the events queued behind it: the restored
  // unit instances whose cgroup is gone with no event left ended while no
  // exporter ran, at an unknown time since the journal's last write.
  void end_restored();
  // The state worth journalling (for a snapshot).
  std::vector<SeriesState> state() const;

  bool knows(uint64_t id) const;
  // The path of a cgroup this tracker knows alive.
  std::optional<std::string> path_of(uint64_t id) const;
  // Whether the counter maps hold values for `id`.
  bool has_values(uint64_t id) const { return store_.holds(id); }
  // The tracker's classification of a path (thread-safe, no lock).
  WorkloadIdentity classify(std::string_view path) const { return classifier_.classify(path); }
  // Ids this tracker believes alive (for reconciliation against a walk).
  std::vector<uint64_t> alive_ids() const;
  // Folds a cgroup id that has values but no known path (seen in a map,
  // gone before any event or walk named it) into the "unresolved" series.
  void fold_unresolved(uint64_t id);

  // The series of one domain at this instant, in label order: live values
  // from `live` (rows keyed by cgroup id, and for vfs_mounts by `subs` too)
  // plus ended totals; ids not known are returned in `unknown` and counted
  // under the "unresolved" series. Drops series whose retention is over.
  struct Aggregate {
    size_t width = 0;
    // Each series' labels rendered for the exposition (cgroup, step,
    // workload, workload_id), shared with the tracker: no copy per scrape.
    std::vector<std::shared_ptr<const std::string>> labels;
    std::vector<uint64_t> sums;  // labels.size() * width
    std::vector<uint64_t> unknown;

    std::span<const uint64_t> row(size_t i) const { return {sums.data() + i * width, width}; }
  };
  Aggregate aggregate(CounterDomain domain, const CounterSnapshot& live);
  // The same into `out`, reusing its storage.
  void aggregate(CounterDomain domain, const CounterSnapshot& live, Aggregate& out);

  struct Stats {
    size_t cgroups_tracked = 0;  // alive cgroups known
    size_t series = 0;           // series reported (alive or retained)
    size_t series_retained = 0;  // ended, still reported
    uint64_t units_ended = 0;    // since start
  };
  Stats stats() const;

  static SeriesKey unresolved_key();
  // The rendered label list of a series (what Aggregate::labels holds).
  static std::string render_labels(const SeriesKey& key);

 private:
  struct Series {
    std::shared_ptr<const std::string> labels;
    size_t slot = SIZE_MAX;  // index in the aggregate being built, SIZE_MAX: none
    std::vector<uint64_t> ended[kCounterDomains];
    int members = 0;  // alive cgroups counting toward it
    // The unit cgroups alive: one per hierarchy counted (on hybrid hosts a
    // container's cgroup can exist with the same path in v1 and cgroup2);
    // the instance ends when the last one is removed.
    std::vector<uint64_t> unit_keys;
    // cgio_workload_info: what was found, whether to look again, when.
    InfoLabels info;
    bool info_done = false;
    int info_tries = 0;
    std::chrono::steady_clock::time_point info_next{};
    std::chrono::system_clock::time_point first_seen;
    std::optional<std::chrono::system_clock::time_point> ended_at;
    std::vector<uint64_t> instance_start[kCounterDomains];
    // Restored from the journal: an instance that was running, and its unit
    // cgroups; a cgroup among them found alive continues it.
    bool restored = false;  // came from the journal
    bool restored_open = false;
    std::vector<uint64_t> restored_ids;
  };
  struct Cgroup {
    std::string path;
    SeriesKey series;
    // The series' node (std::map nodes do not move; a series is only erased
    // when no cgroup counts toward it), so a scrape needs no key lookup.
    Series* series_ptr = nullptr;
    // This cgroup is its series' unit cgroup, for a recognised workload
    // (a cgroup no layout recognises is no unit: it gets no record).
    bool is_unit = false;
  };

  Series& series_for(const SeriesKey& key);
  // Adds an alive cgroup; a restored instance it ends goes into `ends`.
  void add_alive(uint64_t id, const std::string& path, std::chrono::system_clock::time_point at,
                 std::vector<EndedUnit>& ends);
  // The record of `s`'s instance, ended at `at`.
  EndedUnit end_instance(Series& s, const SeriesKey& key, uint64_t id, std::chrono::system_clock::time_point at);
  void report(std::vector<EndedUnit>& ends);
  void fold_restored(Series& s, const SeriesKey& key);
  void fold(uint64_t id, const SeriesKey& key);
  void expire_locked();
  // Rebuilds order_ from series_ when a series was added or erased.
  void reorder_locked();
  bool visible(const Series& s) const;

  WorkloadClassifier classifier_;
  const std::chrono::seconds retain_;
  CounterStore& store_;
  const std::array<size_t, kCounterDomains> widths_;
  Clock clock_;
  std::function<void(const EndedUnit&)> on_unit_end_;
  std::shared_ptr<const WorkloadInfo> info_;
  std::function<std::string(uint64_t, const std::string&)> dir_of_;
  // Series with a unit alive and no complete info yet (std::map nodes are
  // stable; a series leaves before it can be erased).
  std::unordered_map<Series*, const SeriesKey*> info_waiting_;

  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, Cgroup> cgroups_;
  std::map<SeriesKey, Series> series_;
  // series_ in label order as a flat list: a scrape walks this, not the tree.
  std::vector<Series*> order_;
  bool order_dirty_ = true;
  // No series can expire before this instant (max: none is waiting).
  std::chrono::system_clock::time_point next_expiry_ = std::chrono::system_clock::time_point::max();
  uint64_t units_ended_ = 0;
  StateJournal* journal_ = nullptr;
  // Folded by the previous process (restore()); events about them are stale.
  std::unordered_set<uint64_t> stale_ids_;
  std::chrono::system_clock::time_point restored_saved_at_{};
};

}  // namespace cgio
