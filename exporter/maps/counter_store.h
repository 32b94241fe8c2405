// The kernel side of folding: a removed cgroup's final values are read out
// of the counter maps and its entries deleted. CounterStore is an interface
// so the tracker can be tested without maps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "maps/counter_domains.h"
#include "maps/counter_maps.h"

namespace cgio {

class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // Adds `id`'s summed per-CPU values in `domain` into `out`. For two-part
  // keys, `out` holds every mount index's counters in a row.
  virtual void read(CounterDomain domain, uint64_t id, std::span<uint64_t> out) = 0;
  // Deletes `id`'s entries in `domain` (the tracker journals a fold between
  // read() and erase(): cgroups/tracker_state.h).
  virtual void erase(CounterDomain domain, uint64_t id) = 0;
  // Whether `id` has values in a domain keyed by cgroup alone (the
  // mountpoint breakdown is never counted without the vfs domain).
  virtual bool holds(uint64_t id) const = 0;
};

class BpfCounterStore final : public CounterStore {
 public:
  // Domains whose map was not created (-1) hold nothing.
  BpfCounterStore(SharedMapFds maps, unsigned possible_cpus, uint32_t mount_slots);
  void read(CounterDomain domain, uint64_t id, std::span<uint64_t> out) override;
  void erase(CounterDomain domain, uint64_t id) override;
  bool holds(uint64_t id) const override;

 private:
  SharedMapFds maps_;
  unsigned ncpus_;
  uint32_t mount_slots_;
  std::vector<uint64_t> percpu_;  // callers serialise (the tracker's lock)
};

}  // namespace cgio
