#include "cgroups/cgroup_events.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "maps/counter_source.h"
#include "util/log.h"

#include "contracts/cgroup_events.h"

namespace cgio {

CgroupEventReader::CgroupEventReader(Config config, const CgroupHierarchy& hierarchy, CgroupTracker& tracker)
    : config_(std::move(config)), hierarchy_(hierarchy), tracker_(tracker) {
  ring_.reset(ring_buffer__new(config_.ringbuf_fd, &CgroupEventReader::on_event, this, nullptr));
  if (!ring_) {
    log::error("cannot read cgroup events; removed cgroups are found by periodic walks only",
               {{"err", std::strerror(errno)}});
  }
  lost_seen_ = read_lost();
  reconcile();
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

void CgroupEventReader::handle(const void* data, size_t size) {
  if (size < sizeof(cgio_cgroup_event)) return;
  const auto* e = static_cast<const cgio_cgroup_event*>(data);
  if (e->hierarchy_id != config_.hierarchy_id) return;
  ++handled_;
  // The tracepoint's path is relative to the cgroup namespace of the task
  // that made the change; trust it only from the initial namespace and when
  // it was not cut, else ask the kernel (the cgroup still exists on mkdir).
  std::string path;
  if (e->init_cgroup_ns && e->path_len > 0 && e->path_len < CGIO_CGROUP_PATH_MAX - 1) {
    path.assign(e->path, e->path_len);
  }
  if (log::enabled(log::Level::debug)) {
    log::debug("cgroup event", {{"kind", e->kind == CGIO_CGROUP_MKDIR   ? "mkdir"
                                         : e->kind == CGIO_CGROUP_RMDIR ? "rmdir"
                                                                        : "rename"},
                                {"id", std::to_string(e->id)},
                                {"path", path},
                                {"init_ns", e->init_cgroup_ns ? "1" : "0"}});
  }
  switch (e->kind) {
    case CGIO_CGROUP_MKDIR:
    case CGIO_CGROUP_RENAME:
      if (path.empty()) {
        if (auto p = hierarchy_.resolve(e->id)) path = *p;
      }
      if (path.empty()) {
        log::debug("cgroup event without a usable path", {{"id", std::to_string(e->id)}});
        return;  // gone already: its removal event or the next walk settles it
      }
      if (e->kind == CGIO_CGROUP_MKDIR) {
        tracker_.created(e->id, path);
      } else {
        tracker_.renamed(e->id, path);
      }
      break;
    case CGIO_CGROUP_RMDIR:
      tracker_.removed(e->id, path);
      break;
    default:
      break;
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
  for (const auto& [id, path] : hierarchy_.walk()) {
    alive.insert(id);
    if (!tracker_.knows(id)) tracker_.discovered(id, path);
  }
  for (uint64_t id : tracker_.alive_ids()) {
    if (!alive.contains(id)) tracker_.removed(id, "");
  }
  if (config_.ids_in_maps) {
    for (uint64_t id : config_.ids_in_maps()) {
      if (alive.contains(id) || tracker_.knows(id)) continue;
      // Created after the walk began? Then it is alive, and its creation
      // event is still queued: leave it.
      if (auto path = hierarchy_.resolve(id)) {
        tracker_.discovered(id, *path);
        continue;
      }
      tracker_.fold_unresolved(id);
    }
  }
}

void CgroupEventReader::run() {
  auto next_reconcile = std::chrono::steady_clock::now() + config_.reconcile_every;
  while (!stop_) {
    if (ring_) {
      const int n = ring_buffer__poll(ring_.get(), 200 /* ms */);
      if (n < 0 && n != -EINTR) {
        log::warn("reading cgroup events failed", {{"err", std::strerror(-n)}});
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const uint64_t lost = read_lost();
    const bool dropped = lost != lost_seen_;
    if (dropped) {
      log::warn("cgroup events were lost (ring buffer full); reconciling with a walk",
                {{"lost_total", std::to_string(lost)}});
      lost_seen_ = lost;
    }
    if (dropped || std::chrono::steady_clock::now() >= next_reconcile) {
      reconcile();
      next_reconcile = std::chrono::steady_clock::now() + config_.reconcile_every;
    }
  }
}

}  // namespace cgio
