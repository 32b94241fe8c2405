#include "cgroups/tracker.h"

#include <algorithm>
#include <climits>
#include <cstdint>

#include "cgroups/tracker_state.h"
#include "web/exposition.h"

namespace cgio {
namespace {

void add_into(std::vector<uint64_t>& into, std::span<const uint64_t> from, size_t offset = 0) {
  if (into.size() < offset + from.size()) into.resize(offset + from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i) into[offset + i] += from[i];
}

}  // namespace

SeriesKey CgroupTracker::unresolved_key() { return {std::string(kUnrecognised), "unresolved", "unresolved", ""}; }

std::string CgroupTracker::render_labels(const SeriesKey& key) {
  // Sorted by label name, as the rest of the exposition.
  std::string out;
  out.reserve(key.cgroup.size() + key.workload.size() + key.workload_id.size() + key.step.size() + 48);
  ExpositionWriter::append_label(out, "cgroup", key.cgroup);
  if (!key.step.empty()) {
    out.push_back(',');
    ExpositionWriter::append_label(out, "step", key.step);
  }
  out.push_back(',');
  ExpositionWriter::append_label(out, "workload", key.workload);
  out.push_back(',');
  ExpositionWriter::append_label(out, "workload_id", key.workload_id);
  return out;
}

CgroupTracker::CgroupTracker(WorkloadClassifier classifier, std::chrono::seconds retain, CounterStore& store,
                             std::array<size_t, kCounterDomains> widths, Clock clock,
                             std::function<void(const EndedUnit&)> on_unit_end)
    : classifier_(std::move(classifier)),
      retain_(retain),
      store_(store),
      widths_(widths),
      clock_(std::move(clock)),
      on_unit_end_(std::move(on_unit_end)) {}

CgroupTracker::Series& CgroupTracker::series_for(const SeriesKey& key) {
  auto [it, fresh] = series_.try_emplace(key);
  // ended[] and instance_start[] stay empty (all zeros) until a cgroup of
  // the series ends: most series never need them, and at tens of thousands
  // of series the zeros would be most of the tracker's memory.
  if (fresh) {
    it->second.labels = std::make_shared<const std::string>(render_labels(key));
    order_dirty_ = true;
  }
  return it->second;
}

void CgroupTracker::add_alive(uint64_t id, const std::string& path, std::chrono::system_clock::time_point at,
                              std::vector<EndedUnit>& ends) {
  if (cgroups_.contains(id)) return;
  const WorkloadIdentity who = classifier_.classify(path);
  const SeriesKey key{who.workload, who.workload_id, who.unit_path, who.step};
  Series& s = series_for(key);
  ++s.members;
  const bool is_unit = path == who.unit_path && recognised(who);
  if (is_unit && s.unit_keys.empty()) {
    // The instance a previous process journalled continues if this is its
    // cgroup; if another cgroup has the unit's name now, that one ended
    // while no exporter ran.
    const bool continues =
        s.restored_open && std::find(s.restored_ids.begin(), s.restored_ids.end(), id) != s.restored_ids.end();
    if (s.restored_open && !continues) {
      fold_restored(s, key);
      EndedUnit u = end_instance(s, key, s.restored_ids.empty() ? id : s.restored_ids.back(), at);
      u.ended_after = restored_saved_at_;
      ends.push_back(std::move(u));
    }
    s.restored_open = false;
    s.restored_ids.clear();
    if (!continues) {
      // A new instance of the unit (or the one running when cgio started):
      // its accounting totals start from the series' totals now.
      s.first_seen = at;
      s.ended_at.reset();
      for (size_t d = 0; d < kCounterDomains; ++d) s.instance_start[d] = s.ended[d];
    }
    if (!s.info_done) info_waiting_.emplace(&s, &series_.find(key)->first);
    if (journal_) journal_->unit_added(key, id, !continues, s.first_seen);
  } else if (is_unit && journal_) {
    journal_->unit_added(key, id, false, s.first_seen);
  }
  if (is_unit) s.unit_keys.push_back(id);
  cgroups_.emplace(id, Cgroup{path, key, &s, is_unit});
}

void CgroupTracker::fold_restored(Series& s, const SeriesKey& key) {
  // A restored instance's cgroups that are gone: what they counted is
  // still in the maps.
  for (uint64_t gone : s.restored_ids) {
    if (!cgroups_.contains(gone)) fold(gone, key);
  }
}

void CgroupTracker::report(std::vector<EndedUnit>& ends) {
  if (!on_unit_end_) return;
  for (const EndedUnit& u : ends) on_unit_end_(u);
}

void CgroupTracker::discovered(uint64_t id, const std::string& path) {
  std::vector<EndedUnit> ends;
  {
    std::lock_guard lock(mutex_);
    add_alive(id, path, clock_(), ends);
  }
  report(ends);
}

void CgroupTracker::created(uint64_t id, const std::string& path,
                            std::optional<std::chrono::system_clock::time_point> at) {
  std::vector<EndedUnit> ends;
  {
    std::lock_guard lock(mutex_);
    add_alive(id, path, at ? *at : clock_(), ends);
  }
  report(ends);
}

bool CgroupTracker::knows(uint64_t id) const {
  std::lock_guard lock(mutex_);
  return cgroups_.contains(id);
}

std::optional<std::string> CgroupTracker::path_of(uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = cgroups_.find(id);
  if (it == cgroups_.end()) return std::nullopt;
  return it->second.path;
}

std::vector<uint64_t> CgroupTracker::alive_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<uint64_t> ids;
  ids.reserve(cgroups_.size());
  for (const auto& [id, c] : cgroups_) ids.push_back(id);
  return ids;
}

void CgroupTracker::fold(uint64_t id, const SeriesKey& key) {
  Series& s = series_for(key);
  std::vector<uint64_t> finals[kCounterDomains];
  for (size_t d = 0; d < kCounterDomains; ++d) {
    if (widths_[d] == 0) continue;
    finals[d].assign(widths_[d], 0);
    store_.read(static_cast<CounterDomain>(d), id, finals[d]);
  }
  // Journalled before the entries go: a process killed in between leaves
  // the values in the journal, and the next one deletes the entries.
  if (journal_) journal_->folded(id, key, finals);
  for (size_t d = 0; d < kCounterDomains; ++d) {
    if (widths_[d] == 0) continue;
    store_.erase(static_cast<CounterDomain>(d), id);
    add_into(s.ended[d], finals[d]);
  }
}

void CgroupTracker::fold_unresolved(uint64_t id) {
  std::lock_guard lock(mutex_);
  if (cgroups_.contains(id) || stale_ids_.contains(id)) return;
  fold(id, unresolved_key());
}

EndedUnit CgroupTracker::end_instance(Series& s, const SeriesKey& key, uint64_t id,
                                      std::chrono::system_clock::time_point at) {
  s.ended_at = at;
  ++units_ended_;
  info_waiting_.erase(&s);
  EndedUnit u;
  u.key = key;
  u.cgroup_id = id;
  u.info = s.info;
  u.first_seen = s.first_seen;
  u.ended = at;
  for (size_t d = 0; d < kCounterDomains; ++d) {
    u.totals[d].assign(widths_[d], 0);
    for (size_t i = 0; i < s.ended[d].size() && i < widths_[d]; ++i) {
      u.totals[d][i] = s.ended[d][i] - (i < s.instance_start[d].size() ? s.instance_start[d][i] : 0);
    }
  }
  return u;
}

void CgroupTracker::removed(uint64_t id, const std::string& path,
                            std::optional<std::chrono::system_clock::time_point> at) {
  std::vector<EndedUnit> ends;
  {
    std::lock_guard lock(mutex_);
    const auto now = at ? *at : clock_();
    if (!cgroups_.contains(id)) {
      if (stale_ids_.contains(id)) return;  // folded by the previous process
      if (path.empty()) {
        fold(id, unresolved_key());
        return;
      }
      // Created and removed before cgio saw it alive: the removal names it.
      add_alive(id, path, now, ends);
    }
    const Cgroup c = cgroups_.at(id);
    cgroups_.erase(id);
    fold(id, c.series);
    Series& s = series_for(c.series);
    --s.members;
    if (c.is_unit) std::erase(s.unit_keys, id);
    if (c.is_unit && s.unit_keys.empty()) {
      EndedUnit u = end_instance(s, c.series, id, now);
      if (journal_) journal_->unit_ended(u);
      ends.push_back(std::move(u));
    } else if (s.members == 0 && s.unit_keys.empty() && !s.ended_at) {
      s.ended_at = now;  // nothing left counting toward it
      if (journal_) journal_->series_ended(c.series, now);
    }
    if (s.members == 0 && s.unit_keys.empty() && s.ended_at) {
      next_expiry_ = std::min(next_expiry_, *s.ended_at + retain_);
    }
  }
  // Outside the lock: the sink may write and fsync a file.
  report(ends);
}

void CgroupTracker::set_journal(StateJournal* journal) {
  std::lock_guard lock(mutex_);
  journal_ = journal;
}

void CgroupTracker::restore(RestoredState state, const std::function<bool(uint64_t)>& exists) {
  std::lock_guard lock(mutex_);
  restored_saved_at_ = state.saved_at;
  for (SeriesState& r : state.series) {
    Series& s = series_for(r.key);
    for (size_t d = 0; d < kCounterDomains; ++d) {
      s.ended[d] = std::move(r.ended[d]);
      s.instance_start[d] = std::move(r.instance_start[d]);
    }
    s.first_seen = r.first_seen;
    s.ended_at = r.ended_at;
    s.info = std::move(r.info);
    s.restored = true;
    s.restored_open = r.open;
    s.restored_ids = std::move(r.unit_ids);
    if (s.ended_at && !s.restored_open) next_expiry_ = std::min(next_expiry_, *s.ended_at + retain_);
  }
  for (uint64_t id : state.folded_ids) {
    if (exists(id)) continue;  // renamed, not removed: it counts on
    for (size_t d = 0; d < kCounterDomains; ++d) {
      if (widths_[d] != 0) store_.erase(static_cast<CounterDomain>(d), id);
    }
    stale_ids_.insert(id);
  }
}

void CgroupTracker::end_restored() {
  std::vector<EndedUnit> ends;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_();
    for (auto& [key, s] : series_) {
      if (s.restored_open) {
        s.restored_open = false;
        fold_restored(s, key);
        EndedUnit u = end_instance(s, key, s.restored_ids.empty() ? 0 : s.restored_ids.back(), now);
        u.ended_after = restored_saved_at_;
        s.restored_ids.clear();
        if (journal_) journal_->unit_ended(u);
        ends.push_back(std::move(u));
      } else if (s.restored && s.members == 0 && s.unit_keys.empty() && !s.ended_at && key != unresolved_key()) {
        s.ended_at = now;  // restored, nothing of it is alive any more
        if (journal_) journal_->series_ended(key, now);
      } else {
        continue;
      }
      next_expiry_ = std::min(next_expiry_, *s.ended_at + retain_);
    }
  }
  report(ends);
}

std::vector<SeriesState> CgroupTracker::state() const {
  std::lock_guard lock(mutex_);
  std::vector<SeriesState> out;
  for (const auto& [key, s] : series_) {
    bool counted = false;
    for (size_t d = 0; d < kCounterDomains; ++d) {
      for (uint64_t v : s.ended[d]) counted = counted || v != 0;
    }
    const bool open = !s.unit_keys.empty() || s.restored_open;
    if (!counted && !open && !s.ended_at) continue;  // a walk finds it again
    SeriesState st;
    st.key = key;
    for (size_t d = 0; d < kCounterDomains; ++d) {
      st.ended[d] = s.ended[d];
      st.instance_start[d] = s.instance_start[d];
    }
    st.open = open;
    st.unit_ids = s.restored_open ? s.restored_ids : s.unit_keys;
    st.first_seen = s.first_seen;
    st.ended_at = open ? std::nullopt : s.ended_at;
    st.info = s.info;
    out.push_back(std::move(st));
  }
  return out;
}

void CgroupTracker::renamed(uint64_t id, const std::string& new_path) {
  bool known;
  {
    std::lock_guard lock(mutex_);
    known = cgroups_.contains(id);
    if (known && cgroups_.at(id).path == new_path) return;
  }
  // The old identity ends with the values so far; the new one starts at 0.
  if (known) removed(id, "");
  created(id, new_path);
}

bool CgroupTracker::visible(const Series& s) const {
  return s.members > 0 || !s.unit_keys.empty() || s.ended_at.has_value();
}

void CgroupTracker::expire_locked() {
  // Most scrapes have nothing to expire: walk the series only when the
  // earliest retention could be over.
  const auto now = clock_();
  if (now < next_expiry_) return;
  next_expiry_ = std::chrono::system_clock::time_point::max();
  for (auto it = series_.begin(); it != series_.end();) {
    const Series& s = it->second;
    if (s.members == 0 && s.unit_keys.empty() && s.ended_at) {
      const auto until = *s.ended_at + retain_;
      if (now >= until) {
        if (journal_) journal_->expired(it->first);
        it = series_.erase(it);
        order_dirty_ = true;
        continue;
      }
      next_expiry_ = std::min(next_expiry_, until);
    }
    ++it;
  }
}

void CgroupTracker::reorder_locked() {
  if (!order_dirty_) return;
  order_.clear();
  order_.reserve(series_.size());
  for (auto& [key, s] : series_) order_.push_back(&s);
  order_dirty_ = false;
}

CgroupTracker::Aggregate CgroupTracker::aggregate(CounterDomain domain, const CounterSnapshot& live) {
  Aggregate out;
  aggregate(domain, live, out);
  return out;
}

void CgroupTracker::aggregate(CounterDomain domain, const CounterSnapshot& live, Aggregate& out) {
  std::lock_guard lock(mutex_);
  expire_locked();
  const size_t d = static_cast<size_t>(domain);
  out.width = widths_[d];
  out.labels.clear();
  out.sums.clear();
  out.unknown.clear();
  out.sums.reserve(series_.size() * out.width);
  const auto take_slot = [&](Series& s) {
    s.slot = out.labels.size();
    out.labels.push_back(s.labels);
    const size_t at = out.sums.size();
    out.sums.resize(at + out.width, 0);
    std::copy_n(s.ended[d].begin(), std::min(s.ended[d].size(), out.width), out.sums.begin() + static_cast<long>(at));
  };
  // Series are visited in label order; a slot of SIZE_MAX marks one not
  // part of this aggregate.
  const SeriesKey unresolved = unresolved_key();
  Series* unresolved_series = nullptr;
  if (auto u = series_.find(unresolved); u != series_.end()) unresolved_series = &u->second;
  reorder_locked();
  out.labels.reserve(order_.size());
  for (Series* s : order_) {
    s->slot = SIZE_MAX;
    if (visible(*s) || s == unresolved_series) take_slot(*s);
  }
  for (size_t i = 0; i < live.keys.size(); ++i) {
    const uint64_t id = live.keys[i];
    const size_t offset = live.subs.empty() ? 0 : static_cast<size_t>(live.subs[i]) * live.fields;
    const auto c = cgroups_.find(id);
    Series* s = nullptr;
    if (c != cgroups_.end()) {
      s = c->second.series_ptr;
    } else {
      if (out.unknown.empty() || out.unknown.back() != id) out.unknown.push_back(id);
      if (unresolved_series == nullptr) unresolved_series = &series_for(unresolved);
      s = unresolved_series;
    }
    if (s->slot == SIZE_MAX) take_slot(*s);  // created during this aggregate
    const auto row = live.row(i);
    uint64_t* into = out.sums.data() + s->slot * out.width + offset;
    for (size_t f = 0; f < row.size() && offset + f < out.width; ++f) into[f] += row[f];
  }
}

CgroupTracker::Stats CgroupTracker::stats() const {
  std::lock_guard lock(mutex_);
  Stats st;
  st.cgroups_tracked = cgroups_.size();
  st.units_ended = units_ended_;
  for (const auto& [key, s] : series_) {
    if (!visible(s)) continue;
    ++st.series;
    if (s.members == 0 && s.unit_keys.empty()) ++st.series_retained;
  }
  return st;
}

void CgroupTracker::set_info(std::shared_ptr<const WorkloadInfo> info,
                             std::function<std::string(uint64_t, const std::string&)> dir_of) {
  std::lock_guard lock(mutex_);
  info_ = std::move(info);
  dir_of_ = std::move(dir_of);
}

void CgroupTracker::name_units() {
  struct Ask {
    SeriesKey key;
    WorkloadIdentity who;
    std::vector<std::string> dirs;
  };
  std::vector<Ask> asks;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (!info_ || info_waiting_.empty()) return;
    for (const auto& [s, key] : info_waiting_) {
      if (now < s->info_next) continue;
      Ask a{*key, {key->workload, key->workload_id, key->cgroup, key->step}, {}};
      for (uint64_t id : s->unit_keys) a.dirs.push_back(dir_of_(id, key->cgroup));
      asks.push_back(std::move(a));
    }
  }
  if (asks.empty()) return;
  std::vector<WorkloadInfo::Found> found;
  found.reserve(asks.size());
  for (const Ask& a : asks) found.push_back(info_->lookup(a.who, a.dirs));
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < asks.size(); ++i) {
    auto it = series_.find(asks[i].key);
    if (it == series_.end() || it->second.info_done) continue;
    Series& s = it->second;
    if (found[i].labels.size() >= s.info.size() && found[i].labels != s.info) {
      s.info = std::move(found[i].labels);
      if (journal_) journal_->info_found(it->first, s.info);
    }
    constexpr int kTries = 60;  // a unit's tasks start within its first minute
    if (found[i].complete || ++s.info_tries >= kTries) {
      s.info_done = true;
      info_waiting_.erase(&s);
    } else {
      // Soon at first (a job's tasks start right after its cgroup), then
      // once a second.
      s.info_next = now + (s.info_tries < 10 ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000));
    }
  }
}

std::vector<std::pair<SeriesKey, InfoLabels>> CgroupTracker::unit_info() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<SeriesKey, InfoLabels>> out;
  for (const auto& [key, s] : series_) {
    if (key.workload == kUnrecognised || !visible(s)) continue;
    out.emplace_back(key, s.info);
  }
  return out;
}

}  // namespace cgio
