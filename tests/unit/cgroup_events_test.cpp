// The hybrid host's sequence on fixture trees, without root: the exporter
// starts before any job (slurmd's service in cgroup2, nothing in v1), then
// a job's v1 cgroups appear (the kernel marks them pending as the mkdir
// program does), are settled from their events, count, and end.
#include "cgroups/cgroup_events.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <map>
#include <set>

#include "fixture_tree.h"

#include "contracts/cgroup_events.h"
#include "contracts/cgroup_keys.h"

namespace cgio {
namespace {

using test::FixtureTree;

// cgio_v1_units as the kernel and the exporter share it.
class FakeV1Units final : public V1Units {
 public:
  bool mark_unit(uint64_t id, bool only_if_present) override {
    if (only_if_present && !classes.contains(id)) return true;
    classes[id] = CGIO_V1_UNIT;
    return true;
  }
  void forget(uint64_t id) override { classes.erase(id); }
  std::vector<uint64_t> ids() const override {
    std::vector<uint64_t> out;
    for (const auto& [id, c] : classes) out.push_back(id);
    return out;
  }
  std::map<uint64_t, uint32_t> classes;
};

class Store final : public CounterStore {
 public:
  void read(CounterDomain d, uint64_t id, std::span<uint64_t> out) override {
    if (d != CounterDomain::vfs) return;
    auto it = values.find(id);
    if (it == values.end()) return;
    for (size_t i = 0; i < out.size() && i < it->second.size(); ++i) out[i] += it->second[i];
  }
  void erase(CounterDomain d, uint64_t id) override {
    if (d == CounterDomain::vfs) values.erase(id);
  }
  bool holds(uint64_t id) const override { return values.contains(id); }
  std::map<uint64_t, std::vector<uint64_t>> values;
};

constexpr uint32_t kV1Hierarchy = 5;

cgio_cgroup_event event(uint64_t id, uint32_t kind, const std::string& path, uint32_t hierarchy = kV1Hierarchy,
                        uint64_t parent = 0, const std::string& name = "") {
  cgio_cgroup_event e{};
  e.id = id;
  e.parent_id = parent;
  e.hierarchy_id = hierarchy;
  e.kind = kind;
  e.init_cgroup_ns = 1;
  e.path_len = static_cast<uint16_t>(path.size());
  e.name_len = static_cast<uint16_t>(name.size());
  std::memcpy(e.data, path.data(), path.size());
  std::memcpy(e.data + path.size(), name.data(), name.size());
  return e;
}

// The record's size in the ring: the header and the two strings.
size_t record_size(const cgio_cgroup_event& e) { return offsetof(cgio_cgroup_event, data) + e.path_len + e.name_len; }

TEST(CgroupEventReader, HybridJobCreatedAfterStartIsMarkedCountedAndRecordedOnce) {
  FixtureTree v2, v1;
  const uint64_t slurmd = v2.add("/system.slice/slurmd.service");
  const CgroupSpace space = CgroupSpace::hybrid(v2.root(), v1.root(), kV1Hierarchy);
  Store store;
  std::vector<EndedUnit> ended;
  auto classifier = WorkloadClassifier::create("", AggregateMode::unit);
  ASSERT_TRUE(classifier);
  CgroupTracker tracker(
      std::move(classifier.value()), std::chrono::seconds(300), store, {2, 0, 0},
      [] { return std::chrono::system_clock::now(); }, [&](const EndedUnit& u) { ended.push_back(u); });
  auto units = std::make_shared<FakeV1Units>();
  CgroupEventReader::Config config;
  config.v1_units = units;
  config.reconcile_every = std::chrono::hours(1);
  CgroupEventReader reader(config, space, tracker);  // no ring: events are fed below
  EXPECT_TRUE(tracker.knows(slurmd));
  EXPECT_TRUE(units->classes.empty()) << "no job yet";

  // slurmstepd creates the job's directories; the mkdir program marks each
  // pending (the step as a unit once its parent is one).
  const std::vector<std::string> dirs = {"/slurm_n1", "/slurm_n1/uid_0", "/slurm_n1/uid_0/job_7",
                                         "/slurm_n1/uid_0/job_7/step_0"};
  std::map<std::string, uint64_t> id;
  for (const std::string& d : dirs) {
    id[d] = v1.add(d);
    units->classes[id[d]] = CGIO_V1_PENDING;
    const cgio_cgroup_event e = event(id[d], CGIO_CGROUP_MKDIR, d);
    reader.handle(&e, record_size(e));
  }
  const auto key = [&](const std::string& d) { return id[d] | CGIO_V1_KEY_BIT; };
  EXPECT_EQ(units->classes, (std::map<uint64_t, uint32_t>{{id[dirs[2]], CGIO_V1_UNIT}, {id[dirs[3]], CGIO_V1_UNIT}}))
      << "the job and its step are units; the directories above them go back to cgroup2";
  EXPECT_TRUE(tracker.knows(key(dirs[3])));
  EXPECT_FALSE(tracker.knows(key(dirs[1])));

  // The task's I/O, charged to the step's tagged key, is the job's.
  CounterSnapshot live;
  live.fields = 2;
  live.keys = {key(dirs[3]), slurmd};
  live.sums = {5, 500, 1, 10};
  const auto agg = tracker.aggregate(CounterDomain::vfs, live);
  std::map<std::string, std::vector<uint64_t>> by;
  for (size_t i = 0; i < agg.labels.size(); ++i) by[*agg.labels[i]] = {agg.row(i).begin(), agg.row(i).end()};
  EXPECT_EQ(by.at(CgroupTracker::render_labels({"slurm", "7", dirs[2], ""})), (std::vector<uint64_t>{5, 500}));
  EXPECT_EQ(by.at(CgroupTracker::render_labels({"systemd", "slurmd.service", "/system.slice/slurmd.service", ""})),
            (std::vector<uint64_t>{1, 10}));

  // The job ends: its final values are folded; one record, for the job.
  store.values[key(dirs[3])] = {6, 600};
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    units->classes.erase(id[*it]);  // the rmdir program
    const cgio_cgroup_event e = event(id[*it], CGIO_CGROUP_RMDIR, *it);
    reader.handle(&e, record_size(e));
  }
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].key.workload_id, "7");
  EXPECT_EQ(ended[0].totals[0], (std::vector<uint64_t>{6, 600}));
  EXPECT_EQ(ended[0].cgroup_id, key(dirs[2]));
}

TEST(CgroupEventReader, HybridWalksRepairTheV1UnitMarks) {
  FixtureTree v2, v1;
  const uint64_t job = v1.add("/slurm_n1/uid_0/job_3");
  const uint64_t between = v1.id("/slurm_n1/uid_0");
  const CgroupSpace space = CgroupSpace::hybrid(v2.root(), v1.root(), kV1Hierarchy);
  Store store;
  auto classifier = WorkloadClassifier::create("", AggregateMode::unit);
  ASSERT_TRUE(classifier);
  CgroupTracker tracker(
      std::move(classifier.value()), std::chrono::seconds(300), store, {2, 0, 0},
      [] { return std::chrono::system_clock::now(); }, nullptr);
  auto units = std::make_shared<FakeV1Units>();
  // Before the counting programs attach: jobs that exist are marked.
  const auto before_attach = WorkloadClassifier::create("", AggregateMode::unit);
  ASSERT_TRUE(before_attach);
  CgroupEventReader::mark_v1_units(space, *before_attach, *units);
  EXPECT_EQ(units->ids(), std::vector<uint64_t>{job});
  // A pending mark whose event was lost, and one of a cgroup gone: the walk
  // settles both.
  units->classes[between] = CGIO_V1_PENDING;
  units->classes[987654321] = CGIO_V1_UNIT;
  CgroupEventReader::Config config;
  config.v1_units = units;
  config.reconcile_every = std::chrono::hours(1);
  CgroupEventReader reader(config, space, tracker);
  EXPECT_EQ(units->ids(), std::vector<uint64_t>{job});
  EXPECT_TRUE(tracker.knows(job | CGIO_V1_KEY_BIT));
  EXPECT_FALSE(tracker.knows(between | CGIO_V1_KEY_BIT));
}

}  // namespace
}  // namespace cgio

namespace cgio {
namespace {

// Past 1023 bytes the kernel cuts the tracepoint's path. A unit removed
// before anything resolved it is still named exactly: its parent's path
// (resolved from parent_id) and its own name.
TEST(CgroupEventReader, AUnitWithAPathTheKernelCutIsNamedFromItsParent) {
  FixtureTree v2;
  std::string parent_path;
  for (int i = 0; i < 6; ++i) parent_path += "/" + std::string(200, static_cast<char>('a' + i)) + ".slice";
  const uint64_t parent = v2.add(parent_path);
  const std::string path = parent_path + "/u1.service";
  ASSERT_GT(path.size(), 1100u);
  const CgroupSpace space = CgroupSpace::v2(v2.root());
  Store store;
  std::vector<EndedUnit> ended;
  auto classifier = WorkloadClassifier::create("", AggregateMode::unit);
  ASSERT_TRUE(classifier);
  CgroupTracker tracker(
      std::move(classifier.value()), std::chrono::seconds(300), store, {2, 0, 0},
      [] { return std::chrono::system_clock::now(); }, [&](const EndedUnit& u) { ended.push_back(u); });
  CgroupEventReader::Config config;
  config.reconcile_every = std::chrono::hours(1);
  CgroupEventReader reader(config, space, tracker);
  ASSERT_EQ(tracker.path_of(parent), parent_path) << "the walk found the parent";
  const WorkloadIdentity who = tracker.classify(path);
  EXPECT_EQ(who.workload, "systemd");
  EXPECT_EQ(who.unit_path, path);

  // Created and gone before the reader saw it (so it cannot be resolved):
  // both events carry a cut path.
  constexpr uint64_t kGone = 987654321;
  store.values[kGone] = {4, 4096};
  const std::string cut = path.substr(0, CGIO_CGROUP_PATH_MAX - 1);
  const cgio_cgroup_event mk = event(kGone, CGIO_CGROUP_MKDIR, cut, 0, parent, "u1.service");
  reader.handle(&mk, record_size(mk));
  EXPECT_EQ(tracker.path_of(kGone), path) << "named from the parent: the cgroup itself is gone";
  const cgio_cgroup_event rm = event(kGone, CGIO_CGROUP_RMDIR, cut, 0, parent, "u1.service");
  reader.handle(&rm, record_size(rm));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].key.cgroup, path);
  EXPECT_EQ(ended[0].key.workload, "systemd");
  EXPECT_EQ(ended[0].totals[0], (std::vector<uint64_t>{4, 4096}));
}

TEST(CgroupEventReader, ARecordShorterThanItsStringsIsIgnored) {
  FixtureTree v2;
  const CgroupSpace space = CgroupSpace::v2(v2.root());
  Store store;
  auto classifier = WorkloadClassifier::create("", AggregateMode::unit);
  ASSERT_TRUE(classifier);
  CgroupTracker tracker(
      std::move(classifier.value()), std::chrono::seconds(300), store, {2, 0, 0},
      [] { return std::chrono::system_clock::now(); }, nullptr);
  CgroupEventReader::Config config;
  config.reconcile_every = std::chrono::hours(1);
  CgroupEventReader reader(config, space, tracker);
  const uint64_t before = reader.events_handled();
  const cgio_cgroup_event e = event(42, CGIO_CGROUP_MKDIR, "/x.service", 0);
  reader.handle(&e, record_size(e) - 1);
  reader.handle(&e, 8);
  EXPECT_EQ(reader.events_handled(), before);
  EXPECT_FALSE(tracker.knows(42));
}

// The walk runs while cgroups come and go; their events, queued behind it,
// name them exactly. Acting on what the walk missed before those events are
// handled made a record of zero and put the real I/O into "unresolved", or
// ended a unit twice.
TEST(CgroupEventReader, AWalkDuringChurnInventsNoRecordAndLosesNoIo) {
  FixtureTree v2;
  v2.add("/a.slice");
  const CgroupSpace space = CgroupSpace::v2(v2.root());
  Store store;
  std::vector<EndedUnit> ended;
  auto classifier = WorkloadClassifier::create("", AggregateMode::unit);
  ASSERT_TRUE(classifier);
  CgroupTracker tracker(
      std::move(classifier.value()), std::chrono::seconds(300), store, {2, 0, 0},
      [] { return std::chrono::system_clock::now(); }, [&](const EndedUnit& u) { ended.push_back(u); });
  CgroupEventReader::Config config;
  config.reconcile_every = std::chrono::hours(1);
  config.ids_in_maps = [&store] {
    std::vector<uint64_t> ids;
    for (const auto& [id, v] : store.values) ids.push_back(id);
    return ids;
  };
  CgroupEventReader reader(config, space, tracker);

  // y: created and known; removed while the walk runs (its rmdir is queued).
  constexpr uint64_t kY = 9001, kX = 9002;
  const cgio_cgroup_event mk_y = event(kY, CGIO_CGROUP_MKDIR, "/a.slice/y.service", 0);
  reader.handle(&mk_y, record_size(mk_y));
  ASSERT_TRUE(tracker.knows(kY));
  store.values[kY] = {3, 30};
  // x: created after the walk passed /a.slice, did I/O, removed: both events queued.
  store.values[kX] = {5, 50};
  reader.reconcile();  // the fixture has neither: y was missed, x is in the maps only
  EXPECT_TRUE(ended.empty()) << "nothing is decided while events may be queued";
  EXPECT_TRUE(store.values.contains(kX));

  const cgio_cgroup_event rm_y = event(kY, CGIO_CGROUP_RMDIR, "/a.slice/y.service", 0);
  const cgio_cgroup_event mk_x = event(kX, CGIO_CGROUP_MKDIR, "/a.slice/x.service", 0);
  const cgio_cgroup_event rm_x = event(kX, CGIO_CGROUP_RMDIR, "/a.slice/x.service", 0);
  for (const auto* e : {&rm_y, &mk_x, &rm_x}) reader.handle(e, record_size(*e));
  reader.settle();

  ASSERT_EQ(ended.size(), 2u) << "one record per unit";
  std::map<std::string, std::vector<uint64_t>> totals;
  for (const EndedUnit& u : ended) totals[u.key.cgroup] = u.totals[0];
  EXPECT_EQ(totals["/a.slice/y.service"], (std::vector<uint64_t>{3, 30}));
  EXPECT_EQ(totals["/a.slice/x.service"], (std::vector<uint64_t>{5, 50})) << "x's I/O is x's, not unresolved";
  CounterSnapshot none;
  none.fields = 2;
  const auto agg = tracker.aggregate(CounterDomain::vfs, none);
  for (size_t i = 0; i < agg.labels.size(); ++i) {
    EXPECT_EQ(agg.labels[i]->find("unresolved"), std::string::npos) << *agg.labels[i];
  }
}

TEST(CgroupEventReader, WhatNoEventExplainsIsSettledAfterThem) {
  FixtureTree v2;
  v2.add("/a.slice");
  const CgroupSpace space = CgroupSpace::v2(v2.root());
  Store store;
  std::vector<EndedUnit> ended;
  auto classifier = WorkloadClassifier::create("", AggregateMode::unit);
  ASSERT_TRUE(classifier);
  CgroupTracker tracker(
      std::move(classifier.value()), std::chrono::seconds(300), store, {2, 0, 0},
      [] { return std::chrono::system_clock::now(); }, [&](const EndedUnit& u) { ended.push_back(u); });
  CgroupEventReader::Config config;
  config.reconcile_every = std::chrono::hours(1);
  config.ids_in_maps = [&store] {
    std::vector<uint64_t> ids;
    for (const auto& [id, v] : store.values) ids.push_back(id);
    return ids;
  };
  CgroupEventReader reader(config, space, tracker);
  constexpr uint64_t kGone = 7001, kOrphan = 7002;
  const cgio_cgroup_event mk = event(kGone, CGIO_CGROUP_MKDIR, "/a.slice/g.service", 0);
  reader.handle(&mk, record_size(mk));
  store.values[kGone] = {1, 10};
  store.values[kOrphan] = {2, 20};
  reader.reconcile();
  reader.settle();  // the events were lost: the walk's view stands
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].key.cgroup, "/a.slice/g.service");
  EXPECT_EQ(ended[0].totals[0], (std::vector<uint64_t>{1, 10}));
  EXPECT_FALSE(store.values.contains(kOrphan)) << "folded into unresolved";
}

}  // namespace
}  // namespace cgio
