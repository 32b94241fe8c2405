#include "cgroups/cgroup_events.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <optional>
#include <unordered_set>

#include "maps/counter_source.h"
#include "util/log.h"

#include "contracts/cgroup_events.h"
#include "contracts/cgroup_keys.h"

namespace cgio {

namespace {

// On hybrid hosts, the workloads charged to their v1 cgroup: Slurm jobs,
// pods, containers, VMs and custom patterns. Services (systemd units, which
// a hybrid systemd also mirrors into v1 controllers) and unrecognised
// cgroups keep their cgroup2 identity.
bool v1_workload(const WorkloadIdentity& who) { return recognised(who) && who.workload != "systemd"; }

}  // namespace

CgroupEventReader::CgroupEventReader(Config config, const CgroupSpace& space, CgroupTracker& tracker)
    : config_(std::move(config)), space_(space), tracker_(tracker) {
  // Without a ring (the event programs did not attach; the caller said so)
  // only walks find cgroups.
  if (config_.ringbuf_fd >= 0) {
    ring_.reset(ring_buffer__new(config_.ringbuf_fd, &CgroupEventReader::on_event, this, nullptr));
  }
  if (!ring_ && config_.ringbuf_fd >= 0) {
    log::error("cannot read cgroup events; removed cgroups are found by periodic walks only",
               {{"err", std::strerror(errno)}});
  }
  lost_seen_ = read_lost();
  reconcile();
  if (!ring_) settle();  // else after the first poll, with the events queued meanwhile
  thread_ = std::thread([this] { run(); });
}

CgroupEventReader::~CgroupEventReader() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

int CgroupEventReader::on_event(void* ctx, void* data, size_t size) {
  static_cast<CgroupEventReader*>(ctx)->handle(data, size);
  return 0;
}

namespace {

// An event's CLOCK_BOOTTIME stamp as wall-clock time (0: not stamped).
std::optional<std::chrono::system_clock::time_point> event_time(uint64_t boot_ns) {
  if (boot_ns == 0) return std::nullopt;
  timespec boot{};
  clock_gettime(CLOCK_BOOTTIME, &boot);
  const int64_t now_ns = static_cast<int64_t>(boot.tv_sec) * 1'000'000'000 + boot.tv_nsec;
  const auto ago = std::chrono::nanoseconds(std::max<int64_t>(0, now_ns - static_cast<int64_t>(boot_ns)));
  return std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(ago);
}

}  // namespace

void CgroupEventReader::handle(const void* data, size_t size) {
  // A record is the header and path_len + name_len bytes (contracts/cgroup_events.h).
  constexpr size_t kHeader = offsetof(cgio_cgroup_event, data);
  if (size < kHeader) return;
  cgio_cgroup_event head;
  std::memcpy(&head, data, kHeader);
  const cgio_cgroup_event* e = &head;
  if (size < kHeader + e->path_len + e->name_len) return;
  const std::string_view event_path(static_cast<const char*>(data) + kHeader, e->path_len);
  const std::string_view name(static_cast<const char*>(data) + kHeader + e->path_len, e->name_len);
  const auto key = space_.key_of(e->hierarchy_id, e->id);
  if (!key) return;
  ++handled_;
  // The tracepoint's path is relative to the cgroup namespace of the task
  // that made the change, and cut past 1023 bytes: trust it only from the
  // initial namespace and whole. Else the kernel has the path while the
  // cgroup exists (on mkdir, rename), and the parent's path with the name
  // make it exactly, of any length, even once the cgroup is gone.
  std::string path;
  if (e->init_cgroup_ns && !event_path.empty() && event_path.size() < CGIO_CGROUP_PATH_MAX - 1) {
    path.assign(event_path);
  }
  if (path.empty() && e->kind != CGIO_CGROUP_RMDIR) {
    if (auto p = space_.resolve(*key)) path = *p;
  }
  if (path.empty() && !name.empty() && e->parent_id != 0) {
    if (auto parent_key = space_.key_of(e->hierarchy_id, e->parent_id)) {
      auto parent = tracker_.path_of(*parent_key);
      if (!parent) parent = space_.resolve(*parent_key);
      if (parent) {
        path = (*parent == "/" ? "" : *parent) + "/" + std::string(name);
      }
    }
  }
  if (log::enabled(log::Level::debug)) {
    log::debug("cgroup event", {{"kind", e->kind == CGIO_CGROUP_MKDIR   ? "mkdir"
                                         : e->kind == CGIO_CGROUP_RMDIR ? "rmdir"
                                                                        : "rename"},
                                {"id", std::to_string(e->id)},
                                {"hierarchy", std::to_string(e->hierarchy_id)},
                                {"path", path},
                                {"init_ns", e->init_cgroup_ns ? "1" : "0"}});
  }
  const bool v1 = space_.is_v1_key(*key) && config_.v1_units;
  switch (e->kind) {
    case CGIO_CGROUP_MKDIR:
    case CGIO_CGROUP_RENAME:
      if (path.empty()) {
        log::debug("cgroup event without a usable path", {{"id", std::to_string(e->id)}});
        return;  // gone already: its removal event or the next walk settles it
      }
      if (v1 && !settle_v1(*key, path, true)) {
        // Renamed out of a workload: the old identity ends.
        if (tracker_.knows(*key)) tracker_.removed(*key, "");
        return;
      }
      if (e->kind == CGIO_CGROUP_MKDIR) {
        tracker_.created(*key, path, event_time(e->time_ns));
      } else {
        tracker_.renamed(*key, path);
      }
      break;
    case CGIO_CGROUP_RMDIR:
      // A v1 cgroup that was no workload and counted nothing while pending
      // is none of the tracker's business.
      if (v1 && !tracker_.knows(*key) && !tracker_.has_values(*key)) return;
      tracker_.removed(*key, path, event_time(e->time_ns));
      break;
    default:
      break;
  }
}

bool CgroupEventReader::settle_v1(uint64_t key, const std::string& path, bool from_event) {
  const uint64_t id = CgroupSpace::kernfs_id(key);
  if (v1_workload(tracker_.classify(path))) {
    if (!config_.v1_units->mark_unit(id, from_event) && !v1_full_logged_) {
      v1_full_logged_ = true;
      log::error(
          "the v1 unit map is full: tasks of further v1 jobs are charged to their cgroup2 cgroup "
          "(raise --bpf.map-entries; counted in cgio_bpf_map_full_total{map=\"v1_units\"})",
          {{"cgroup", path}});
    }
    return true;
  }
  config_.v1_units->forget(id);
  return tracker_.has_values(key);
}

void CgroupEventReader::mark_v1_units(const CgroupSpace& space, const WorkloadClassifier& classifier, V1Units& units) {
  if (!space.hybrid()) return;
  for (const auto& entry : space.walk()) {
    if (entry.v1_of_hybrid && v1_workload(classifier.classify(entry.path))) {
      units.mark_unit(CgroupSpace::kernfs_id(entry.key), false);
    }
  }
}

uint64_t CgroupEventReader::read_lost() const {
  if (config_.lost_fd < 0) return 0;
  std::vector<uint64_t> percpu(config_.possible_cpus, 0);
  const uint32_t key = CGIO_EVENTS_LOST;
  if (bpf_map_lookup_elem(config_.lost_fd, &key, percpu.data()) != 0) return 0;
  uint64_t sum = 0;
  sum_percpu(percpu, config_.possible_cpus, {&sum, 1});
  return sum;
}

void CgroupEventReader::reconcile() {
  std::unordered_set<uint64_t> alive;
  std::unordered_set<uint64_t> v1_marked;
  const bool hybrid = space_.hybrid() && config_.v1_units;
  if (hybrid) {
    for (uint64_t id : config_.v1_units->ids()) v1_marked.insert(id);
  }
  for (const auto& entry : space_.walk()) {
    alive.insert(entry.key);
    if (entry.v1_of_hybrid && hybrid) {
      const uint64_t id = CgroupSpace::kernfs_id(entry.key);
      const bool workload = v1_workload(tracker_.classify(entry.path));
      // Pending cgroups whose event is still queued are settled here or
      // there, the same way.
      if (workload && !v1_marked.contains(id)) config_.v1_units->mark_unit(id, false);
      if (!workload && v1_marked.contains(id)) config_.v1_units->forget(id);
      v1_marked.erase(id);
      if (!workload && !tracker_.knows(entry.key) && !tracker_.has_values(entry.key)) continue;
    }
    if (!tracker_.knows(entry.key)) tracker_.discovered(entry.key, entry.path);
  }
  // Marked but gone (removed between a walk and its marking).
  for (uint64_t id : v1_marked) {
    if (!alive.contains(id | CGIO_V1_KEY_BIT)) config_.v1_units->forget(id);
  }
  for (uint64_t id : tracker_.alive_ids()) {
    if (!alive.contains(id)) missed_.push_back(id);
  }
  if (config_.ids_in_maps) {
    for (uint64_t id : config_.ids_in_maps()) {
      if (!alive.contains(id) && !tracker_.knows(id)) orphans_.push_back(id);
    }
  }
}

void CgroupEventReader::settle() {
  // A cgroup created during the walk, after it passed its directory, has its
  // mkdir event queued; one removed during the walk has its rmdir event
  // queued. Acting before those events (removing, or folding values into
  // "unresolved") made records of zero I/O and lost the real I/O; the
  // events, handled since, named them. Only what no event explained is
  // settled here.
  std::vector<uint64_t> missed = std::move(missed_), orphans = std::move(orphans_);
  missed_.clear();
  orphans_.clear();
  for (uint64_t id : missed) {
    if (tracker_.knows(id) && !space_.resolve(id)) tracker_.removed(id, "");
  }
  if (!settled_once_) {
    // What a previous exporter left (pinned maps): units that ended with
    // no event to say so are ended now, with the values their cgroups left
    // in the maps (so before those are taken for orphans).
    settled_once_ = true;
    tracker_.end_restored();
  }
  for (uint64_t id : orphans) {
    if (tracker_.knows(id) || !tracker_.has_values(id)) continue;
    if (auto path = space_.resolve(id)) {
      tracker_.discovered(id, *path);  // alive: created after the walk passed it
      continue;
    }
    tracker_.fold_unresolved(id);
  }
}

void CgroupEventReader::run() {
  auto next_reconcile = std::chrono::steady_clock::now() + config_.reconcile_every;
  auto next_tick = std::chrono::steady_clock::now();
  while (!stop_) {
    if (config_.tick && std::chrono::steady_clock::now() >= next_tick) {
      config_.tick();
      next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    if (ring_) {
      const int n = ring_buffer__poll(ring_.get(), 200 /* ms */);
      if (n < 0 && n != -EINTR) {
        log::warn("reading cgroup events failed", {{"err", std::strerror(-n)}});
      }
      // The poll handled every event queued before it, so also those queued
      // during the last reconcile.
      if (!missed_.empty() || !orphans_.empty() || !settled_once_) settle();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    tracker_.name_units();
    const uint64_t lost = read_lost();
    const bool dropped = lost != lost_seen_;
    if (dropped) {
      log::warn("cgroup events were lost (ring buffer full); reconciling with a walk",
                {{"lost_total", std::to_string(lost)}});
      lost_seen_ = lost;
    }
    if (dropped || std::chrono::steady_clock::now() >= next_reconcile) {
      reconcile();
      if (!ring_) settle();
      next_reconcile = std::chrono::steady_clock::now() + config_.reconcile_every;
    }
  }
}

}  // namespace cgio
