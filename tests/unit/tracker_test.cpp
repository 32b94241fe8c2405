// The accounting model: folding removed cgroups into their unit, retention,
// accounting of unit instances, and the aggregation modes.
#include <gtest/gtest.h>

#include <map>

#include "cgroups/tracker.h"
#include "tracker_harness.h"

namespace cgio {
namespace {

std::string L(const SeriesKey& key) { return CgroupTracker::render_labels(key); }

const std::string kJob = "/system.slice/slurmstepd.scope/job_42";
const SeriesKey kJobKey{"slurm", "42", kJob, ""};

TEST(Tracker, UnitModeSumsEveryDescendantIntoTheJob) {
  Harness h(AggregateMode::unit);
  h.tracker->discovered(10, kJob);
  h.tracker->discovered(11, kJob + "/step_0");
  h.tracker->discovered(12, kJob + "/step_0/user/task_0");
  h.tracker->discovered(13, kJob + "/step_batch/user/task_0");
  const auto s = h.vfs({{12, {3, 300}}, {13, {1, 100}}});
  ASSERT_EQ(s.count(L(kJobKey)), 1u);
  EXPECT_EQ(s.at(L(kJobKey)), (std::vector<uint64_t>{4, 400}));
  EXPECT_EQ(h.tracker->stats().cgroups_tracked, 4u);
}

TEST(Tracker, RemovedCgroupsAreFoldedDeletedAndTheJobRecordedWithItsTotals) {
  Harness h(AggregateMode::unit);
  h.tracker->discovered(10, kJob);
  h.tracker->discovered(11, kJob + "/step_0");
  h.now += 10s;
  // The step's last I/O happened after the last scrape: only the map has it.
  h.store.put(CounterDomain::vfs, 11, {7, 700});
  h.store.put(CounterDomain::net, 11, {5});
  h.tracker->removed(11, "");
  EXPECT_FALSE(h.store.holds(CounterDomain::vfs, 11)) << "map entry deleted after folding";
  EXPECT_EQ(h.vfs().at(L(kJobKey)), (std::vector<uint64_t>{7, 700}));
  EXPECT_TRUE(h.ended.empty()) << "the job cgroup still exists";

  h.now += 5s;
  h.tracker->removed(10, "");
  ASSERT_EQ(h.ended.size(), 1u);
  const EndedUnit& u = h.ended[0];
  EXPECT_EQ(u.key, kJobKey);
  EXPECT_EQ(u.cgroup_id, 10u);
  EXPECT_EQ(u.first_seen, time_point(1'000'000s));
  EXPECT_EQ(u.ended, time_point(1'000'015s));
  EXPECT_EQ(u.totals[0], (std::vector<uint64_t>{7, 700}));
  EXPECT_EQ(u.totals[1], (std::vector<uint64_t>{5}));
  EXPECT_EQ(h.tracker->stats().units_ended, 1u);
  EXPECT_EQ(h.tracker->stats().series_retained, 1u);
  EXPECT_EQ(h.tracker->stats().cgroups_tracked, 0u);
}

TEST(Tracker, EndedUnitsReportTheirFinalTotalsForTheRetentionTimeThenDisappear) {
  Harness h(AggregateMode::unit, 300s);
  h.tracker->discovered(10, kJob);
  h.store.put(CounterDomain::vfs, 10, {1, 2});
  h.tracker->removed(10, "");
  h.now += 299s;
  EXPECT_EQ(h.vfs().at(L(kJobKey)), (std::vector<uint64_t>{1, 2}));
  h.now += 1s;
  EXPECT_EQ(h.vfs().count(L(kJobKey)), 0u);
  EXPECT_EQ(h.tracker->stats().series, 0u);
}

TEST(Tracker, AJobCreatedAndRemovedBetweenScrapesIsFullyAccounted) {
  Harness h(AggregateMode::unit);
  // mkdir events, I/O, rmdir events: no scrape in between, no walk.
  h.tracker->created(20, "/system.slice/slurmstepd.scope/job_7");
  h.tracker->created(21, "/system.slice/slurmstepd.scope/job_7/step_0");
  h.store.put(CounterDomain::vfs, 21, {100, 12345});
  h.now += 100ms;
  h.tracker->removed(21, "/system.slice/slurmstepd.scope/job_7/step_0");
  h.tracker->removed(20, "/system.slice/slurmstepd.scope/job_7");
  ASSERT_EQ(h.ended.size(), 1u);
  EXPECT_EQ(h.ended[0].key.workload_id, "7");
  EXPECT_EQ(h.ended[0].totals[0], (std::vector<uint64_t>{100, 12345}));
  const SeriesKey key{"slurm", "7", "/system.slice/slurmstepd.scope/job_7", ""};
  EXPECT_EQ(h.vfs().at(L(key)), (std::vector<uint64_t>{100, 12345}));
}

TEST(Tracker, RemovalOfANeverSeenCgroupUsesThePathOfTheEvent) {
  Harness h(AggregateMode::unit);
  h.store.put(CounterDomain::vfs, 30, {2, 20});
  h.tracker->removed(30, "/system.slice/slurmstepd.scope/job_9");
  ASSERT_EQ(h.ended.size(), 1u);
  EXPECT_EQ(h.ended[0].key.workload_id, "9");
  EXPECT_EQ(h.ended[0].totals[0], (std::vector<uint64_t>{2, 20}));
}

TEST(Tracker, ARestartedServiceContinuesItsSeriesAndIsRecordedPerInstance) {
  Harness h(AggregateMode::unit, 300s);
  const std::string svc = "/system.slice/foo.service";
  const SeriesKey key{"systemd", "foo.service", svc, ""};
  h.tracker->discovered(40, svc);
  h.store.put(CounterDomain::vfs, 40, {5, 50});
  h.tracker->removed(40, "");
  h.now += 10s;
  h.tracker->created(41, svc);
  // Monotonic: the new instance's counts add to the first one's.
  EXPECT_EQ(h.vfs({{41, {1, 10}}}).at(L(key)), (std::vector<uint64_t>{6, 60}));
  h.now += 600s;  // past the first instance's retention: still reported, still alive
  EXPECT_EQ(h.vfs({{41, {2, 20}}}).at(L(key)), (std::vector<uint64_t>{7, 70}));
  h.store.put(CounterDomain::vfs, 41, {2, 20});
  h.tracker->removed(41, "");
  ASSERT_EQ(h.ended.size(), 2u);
  EXPECT_EQ(h.ended[0].totals[0], (std::vector<uint64_t>{5, 50}));
  EXPECT_EQ(h.ended[1].totals[0], (std::vector<uint64_t>{2, 20})) << "the record counts this instance only";
  EXPECT_EQ(h.ended[1].cgroup_id, 41u);
}

// Hybrid hosts: a container's cgroup can exist with one path in v1 (key
// tagged) and in cgroup2. One unit, one record, after both are gone.
TEST(Tracker, AUnitInTwoHierarchiesEndsWhenItsLastCgroupIsRemoved) {
  Harness h(AggregateMode::unit);
  const std::string ctr = "/libpod_parent/libpod-" + std::string(64, 'a');
  const uint64_t v1 = 50 | (1ull << 63);
  h.tracker->discovered(50, ctr);
  h.tracker->discovered(v1, ctr);
  h.store.put(CounterDomain::vfs, v1, {3, 30});
  h.store.put(CounterDomain::vfs, 50, {1, 10});
  h.tracker->removed(50, "");
  EXPECT_TRUE(h.ended.empty()) << "its v1 cgroup still counts";
  h.tracker->removed(v1, "");
  ASSERT_EQ(h.ended.size(), 1u);
  EXPECT_EQ(h.ended[0].key.workload, "podman");
  EXPECT_EQ(h.ended[0].totals[0], (std::vector<uint64_t>{4, 40}));
  EXPECT_EQ(h.ended[0].cgroup_id, v1) << "the key of the cgroup removed last";
}

// Records are for units people account for: the directories between them
// (a Slurm uid_<n>, a slice, any cgroup no layout recognises) get none.
TEST(Tracker, CgroupsNoLayoutRecognisesAreNotRecorded) {
  Harness h(AggregateMode::unit);
  h.tracker->discovered(60, "/slurm_vm/uid_0");
  h.tracker->discovered(61, "/scratch/tmp");
  h.store.put(CounterDomain::vfs, 61, {2, 20});
  h.tracker->removed(61, "");
  h.tracker->removed(60, "");
  h.tracker->removed(62, "/slurm_vm/uid_1");  // never seen: the event names it
  EXPECT_TRUE(h.ended.empty());
  EXPECT_EQ(h.tracker->stats().units_ended, 0u);
  // Their counts are still reported, for the retention time.
  EXPECT_EQ(h.vfs().at(L({"cgroup", "/scratch/tmp", "/scratch/tmp", ""})), (std::vector<uint64_t>{2, 20}));
}

TEST(Tracker, StepModeKeepsStepsApartWithAStepLabel) {
  Harness h(AggregateMode::step);
  h.tracker->discovered(10, kJob);
  h.tracker->discovered(11, kJob + "/step_0");
  h.tracker->discovered(12, kJob + "/step_0/user/task_0");
  h.tracker->discovered(13, kJob + "/step_batch");
  const auto s = h.vfs({{12, {1, 1}}, {13, {2, 2}}});
  EXPECT_EQ(s.at(L(SeriesKey{"slurm", "42", kJob + "/step_0", "0"})), (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(s.at(L(SeriesKey{"slurm", "42", kJob + "/step_batch", "batch"})), (std::vector<uint64_t>{2, 2}));
}

TEST(Tracker, LeafModeKeepsEveryCgroup) {
  Harness h(AggregateMode::leaf);
  h.tracker->discovered(10, kJob);
  h.tracker->discovered(12, kJob + "/step_0/user/task_0");
  const auto s = h.vfs({{10, {1, 1}}, {12, {2, 2}}});
  EXPECT_EQ(s.at(L(SeriesKey{"slurm", "42", kJob, ""})), (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(s.at(L(SeriesKey{"slurm", "42", kJob + "/step_0/user/task_0", ""})), (std::vector<uint64_t>{2, 2}));
}

TEST(Tracker, UnknownIdsAreReportedAndCountedUnderUnresolved) {
  Harness h(AggregateMode::unit);
  const auto agg = h.tracker->aggregate(CounterDomain::vfs, Harness::live({{99, {4, 40}}}));
  EXPECT_EQ(agg.unknown, (std::vector<uint64_t>{99}));
  EXPECT_EQ(Harness::by_labels(agg).at(L(CgroupTracker::unresolved_key())), (std::vector<uint64_t>{4, 40}));
  // An orphan folded out of the maps stays in the unresolved series.
  h.store.put(CounterDomain::vfs, 98, {1, 10});
  h.tracker->fold_unresolved(98);
  h.now += 3600s;
  EXPECT_EQ(h.vfs().at(L(CgroupTracker::unresolved_key())), (std::vector<uint64_t>{1, 10}));
}

TEST(Tracker, RenameEndsTheOldIdentityAndStartsTheNew) {
  Harness h(AggregateMode::unit);
  h.tracker->discovered(50, "/system.slice/a.service");
  h.store.put(CounterDomain::vfs, 50, {3, 3});
  h.tracker->renamed(50, "/system.slice/b.service");
  const auto s = h.vfs({{50, {1, 1}}});
  EXPECT_EQ(s.at(L(SeriesKey{"systemd", "a.service", "/system.slice/a.service", ""})), (std::vector<uint64_t>{3, 3}));
  EXPECT_EQ(s.at(L(SeriesKey{"systemd", "b.service", "/system.slice/b.service", ""})), (std::vector<uint64_t>{1, 1}));
}

TEST(Tracker, LabelsAreRenderedOnceSortedAndEscaped) {
  EXPECT_EQ(L(SeriesKey{"slurm", "42", "/a\"b", "0"}),
            "cgroup=\"/a\\\"b\",step=\"0\",workload=\"slurm\",workload_id=\"42\"");
  EXPECT_EQ(L(SeriesKey{"systemd", "x.service", "/x.service", ""}),
            "cgroup=\"/x.service\",workload=\"systemd\",workload_id=\"x.service\"");
}

TEST(Tracker, PerMountRowsLandAtTheirMountOffset) {
  Harness h(AggregateMode::unit);
  h.tracker->discovered(10, kJob);
  CounterSnapshot snap;
  snap.fields = 2;
  snap.keys = {10, 10};
  snap.subs = {0, 1};
  snap.sums = {1, 2, 3, 4};
  const auto agg = h.tracker->aggregate(CounterDomain::vfs_mounts, snap);
  EXPECT_EQ(Harness::by_labels(agg).at(L(kJobKey)), (std::vector<uint64_t>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace cgio
