// The tracker's journal (cgroups/tracker_state.h): what a restarted
// exporter takes over from the one before, through a real file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cgroups/tracker_state.h"
#include "tracker_harness.h"

namespace cgio {
namespace {

const std::string kJob = "/system.slice/slurmstepd.scope/job_7";
const std::string kStep = kJob + "/step_0";
const SeriesKey kJobKey{"slurm", "7", kJob, ""};

std::string L(const SeriesKey& key) { return CgroupTracker::render_labels(key); }

// Counters equal where a missing one is 0.
bool same_counts(std::vector<uint64_t> a, std::vector<uint64_t> b) {
  a.resize(std::max(a.size(), b.size()), 0);
  b.resize(a.size(), 0);
  return a == b;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cgio-state-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// One exporter's life: a tracker journalling into `file`, restored from
// what the file held for the same boot and maps.
struct Life {
  Harness h{AggregateMode::unit};
  std::unique_ptr<StateJournal> journal;
  std::optional<RestoredState> restored;
  std::string why;

  Life(const std::string& file, FakeStore* store_from = nullptr, uint32_t maps_id = 9, const std::string& boot = "b1",
       time_point now = time_point(1'000'000s)) {
    h.now = now;
    if (store_from != nullptr) h.store = *store_from;
    auto opened = StateJournal::open(file, boot, maps_id);
    EXPECT_TRUE(opened) << opened.error().message;
    journal = std::move(opened->journal);
    why = opened->why;
    if (opened->state) {
      restored = *opened->state;
      std::vector<EndedUnit> ended = opened->state->ended_units;
      h.tracker->restore(std::move(*opened->state), [](uint64_t) { return false; });
      for (const EndedUnit& u : ended) h.ended.push_back(u);
    }
    EXPECT_TRUE(journal->snapshot(h.tracker->state(), true));
    h.tracker->set_journal(journal.get());
  }
};

TEST(TrackerState, AJobAliveAcrossARestartIsRecordedOnceWithAllItsIO) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  FakeStore kernel;  // the pinned maps: they outlive each life
  {
    Life first(file);
    first.h.tracker->discovered(10, kJob);
    first.h.tracker->discovered(11, kStep);
    first.h.store.put(CounterDomain::vfs, 11, {3, 300});  // the step's I/O
    first.h.tracker->removed(11, "");                     // folded, its entries deleted
    first.h.store.put(CounterDomain::vfs, 10, {1, 50});   // the job cgroup's own, still in the map
    EXPECT_TRUE(first.h.ended.empty());
    kernel = first.h.store;
  }                                             // killed: nothing written at exit
  kernel.put(CounterDomain::vfs, 10, {2, 80});  // counted while no exporter ran
  Life second(file, &kernel, 9, "b1", time_point(1'000'100s));
  ASSERT_TRUE(second.restored) << second.why;
  second.h.tracker->discovered(10, kJob);  // the walk finds the job alive: it continues
  EXPECT_EQ(second.h.vfs({{10, {2, 80}}}).at(L(kJobKey)), (std::vector<uint64_t>{5, 380}))
      << "the step folded before the restart and the job's pinned values";
  second.h.tracker->end_restored();
  EXPECT_TRUE(second.h.ended.empty()) << "the job is alive";
  second.h.now += 10s;
  second.h.tracker->removed(10, "");
  ASSERT_EQ(second.h.ended.size(), 1u);
  const EndedUnit& u = second.h.ended[0];
  EXPECT_EQ(u.totals[0], (std::vector<uint64_t>{5, 380}));
  EXPECT_EQ(u.first_seen, time_point(1'000'000s)) << "the instance started in the first life";
  EXPECT_FALSE(u.ended_after);
}

TEST(TrackerState, AUnitThatEndedWhileNoExporterRanIsRecordedWithTheInterval) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  FakeStore kernel;
  {
    Life first(file);
    first.h.tracker->discovered(10, kJob);
    first.h.store.put(CounterDomain::vfs, 10, {4, 400});
    first.h.tracker->discovered(11, kStep);
    first.h.store.put(CounterDomain::vfs, 11, {1, 10});
    first.h.tracker->removed(11, "");
    kernel = first.h.store;
  }
  // The job ended while no exporter ran and the event was lost: the map
  // still holds its values, nothing names it.
  Life second(file, &kernel, 9, "b1", time_point(1'000'500s));
  ASSERT_TRUE(second.restored);
  second.h.tracker->end_restored();
  ASSERT_EQ(second.h.ended.size(), 1u);
  const EndedUnit& u = second.h.ended[0];
  EXPECT_EQ(u.key, kJobKey);
  EXPECT_EQ(u.cgroup_id, 10u);
  EXPECT_EQ(u.totals[0], (std::vector<uint64_t>{5, 410}))
      << "the folded step and what the job's cgroup left in the map";
  EXPECT_FALSE(second.h.store.holds(CounterDomain::vfs, 10));
  ASSERT_TRUE(u.ended_after);  // the journal's last write (the file's time)
  EXPECT_GT(*u.ended_after, time_point(1'000'000s));
}

TEST(TrackerState, ARemovalEventFromTheDowntimeEndsTheRestoredInstanceExactly) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  FakeStore kernel;
  {
    Life first(file);
    first.h.tracker->discovered(10, kJob);
    first.h.store.put(CounterDomain::vfs, 10, {4, 400});
    kernel = first.h.store;
  }
  Life second(file, &kernel, 9, "b1", time_point(1'000'500s));
  // The ring kept the job's rmdir (with its time) while no exporter ran.
  second.h.tracker->removed(10, kJob, time_point(1'000'200s));
  second.h.tracker->end_restored();
  ASSERT_EQ(second.h.ended.size(), 1u);
  EXPECT_EQ(second.h.ended[0].totals[0], (std::vector<uint64_t>{4, 400}));
  EXPECT_EQ(second.h.ended[0].ended, time_point(1'000'200s));
  EXPECT_EQ(second.h.ended[0].first_seen, time_point(1'000'000s));
  EXPECT_FALSE(second.h.ended[0].ended_after);
}

TEST(TrackerState, ANewCgroupUnderTheSameNameIsANewInstanceAndEndsTheOldOne) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  {
    Life first(file);
    first.h.tracker->discovered(10, kJob);
  }
  Life second(file, nullptr, 9, "b1", time_point(1'000'500s));
  second.h.tracker->discovered(20, kJob);  // same path, another cgroup
  ASSERT_EQ(second.h.ended.size(), 1u);
  EXPECT_EQ(second.h.ended[0].cgroup_id, 10u);
  EXPECT_TRUE(second.h.ended[0].ended_after);
  second.h.tracker->removed(20, "");
  ASSERT_EQ(second.h.ended.size(), 2u);
  EXPECT_EQ(second.h.ended[1].cgroup_id, 20u);
  EXPECT_EQ(second.h.ended[1].first_seen, time_point(1'000'500s));
}

TEST(TrackerState, UnitsEndedBeforeTheRestartComeBackForTheirRecordsAndRetainedSeriesKeepTheirTotals) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  {
    Life first(file);
    first.h.tracker->discovered(10, kJob);
    first.h.store.put(CounterDomain::vfs, 10, {6, 600});
    first.h.tracker->removed(10, "");
    ASSERT_EQ(first.h.ended.size(), 1u);
  }
  Life second(file, nullptr, 9, "b1", time_point(1'000'010s));
  ASSERT_TRUE(second.restored);
  ASSERT_EQ(second.restored->ended_units.size(), 1u) << "its record may not have reached the file";
  EXPECT_EQ(second.restored->ended_units[0].totals[0], (std::vector<uint64_t>{6, 600}));
  EXPECT_EQ(second.h.vfs().at(L(kJobKey)), (std::vector<uint64_t>{6, 600})) << "retained, counters do not reset";
  second.h.tracker->end_restored();
  EXPECT_EQ(second.h.ended.size(), 1u) << "only the journal's record, no second one";
}

TEST(TrackerState, AFoldJournalledJustBeforeTheProcessDiedIsNotCountedTwice) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  FakeStore kernel;
  {
    Life first(file);
    first.h.tracker->discovered(10, kJob);
    first.h.tracker->discovered(11, kStep);
    first.h.store.put(CounterDomain::vfs, 11, {2, 20});
    kernel = first.h.store;  // the maps as they were when the fold was journalled
    first.h.tracker->removed(11, "");
  }
  Life second(file, &kernel, 9, "b1", time_point(1'000'010s));
  EXPECT_FALSE(second.h.store.holds(CounterDomain::vfs, 11)) << "the leftover entry is deleted";
  second.h.tracker->removed(11, kStep);  // its event again: already folded
  second.h.tracker->discovered(10, kJob);
  second.h.tracker->removed(10, "");
  ASSERT_EQ(second.h.ended.size(), 1u);
  EXPECT_EQ(second.h.ended[0].totals[0], (std::vector<uint64_t>{2, 20}));
}

TEST(TrackerState, UnresolvedTotalsSurviveARestartAndNeverExpire) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  {
    Life first(file);
    first.h.store.put(CounterDomain::vfs, 99, {1, 5});
    first.h.tracker->fold_unresolved(99);
  }
  Life second(file, nullptr, 9, "b1", time_point(1'000'010s));
  second.h.tracker->end_restored();
  second.h.now += 24h;
  EXPECT_EQ(second.h.vfs().at(L(CgroupTracker::unresolved_key())), (std::vector<uint64_t>{1, 5}));
}

TEST(TrackerState, AnotherBootOrOtherMapsStartFromNothingAndSaySo) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  {
    Life first(file);
    first.h.tracker->discovered(10, kJob);
  }
  Life other_maps(file, nullptr, 10);
  EXPECT_FALSE(other_maps.restored);
  EXPECT_NE(other_maps.why.find("other pinned maps"), std::string::npos) << other_maps.why;
  Life other_boot(file, nullptr, 10, "b2");
  EXPECT_FALSE(other_boot.restored);
  EXPECT_NE(other_boot.why.find("another boot"), std::string::npos) << other_boot.why;
}

TEST(TrackerState, KeysOfAnyBytesComeBackExactly) {
  const SeriesKey odd{"cgroup", "/a\"b\\c%d\xff\x01 e", "/a\"b\\c%d\xff\x01 e", "st%ep"};
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  {
    auto opened = StateJournal::open(file, "b", 1);
    ASSERT_TRUE(opened);
    std::vector<uint64_t> finals[kCounterDomains] = {{1, 2}, {3}, {}};
    opened->journal->folded(5, odd, finals);
  }
  auto again = StateJournal::open(file, "b", 1);
  ASSERT_TRUE(again && again->state);
  ASSERT_EQ(again->state->series.size(), 1u);
  EXPECT_EQ(again->state->series[0].key, odd);
  EXPECT_EQ(again->state->series[0].ended[0], (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(again->state->series[0].ended[1], (std::vector<uint64_t>{3}));
}

TEST(TrackerState, ALineCutByACrashIsLeftOutAndTheRestApplied) {
  const std::string k = R"(["slurm","7","/j",""])";
  const std::string text = R"({"f":1,"k":)" + k + R"(,"t":[[1,1],[],[]]})" + "\n" + R"({"f":2,"k":)" + k +
                           R"(,"t":[[2,2],[],[]]})" + "\n" + R"({"f":3,"k":)" + k + R"(,"t":[[4)";
  const RestoredState st = replay_journal(text);
  EXPECT_EQ(st.lines, 2u);
  EXPECT_EQ(st.unreadable, 1u);
  ASSERT_EQ(st.series.size(), 1u);
  EXPECT_EQ(st.series[0].ended[0], (std::vector<uint64_t>{3, 3}));
  EXPECT_EQ(st.folded_ids.size(), 2u);
}

TEST(TrackerState, ASnapshotHoldsTheSameStateAsTheJournalItReplaces) {
  TempDir dir;
  const std::string file = dir.path + "/state.jsonl";
  Life life(file);
  for (uint64_t j = 0; j < 50; ++j) {
    const std::string job = "/system.slice/slurmstepd.scope/job_" + std::to_string(100 + j);
    life.h.tracker->discovered(1000 + j, job);
    life.h.tracker->discovered(2000 + j, job + "/step_0");
    life.h.store.put(CounterDomain::vfs, 2000 + j, {j, j * 10});
    life.h.tracker->removed(2000 + j, "");
    if (j % 2 == 0) life.h.tracker->removed(1000 + j, "");
  }
  const RestoredState journalled = replay_journal(read_file(file).substr(read_file(file).find('\n') + 1));
  ASSERT_TRUE(life.journal->snapshot(life.h.tracker->state(), false));
  const std::string snap = read_file(file);
  const RestoredState snapshotted = replay_journal(snap.substr(snap.find('\n') + 1));
  EXPECT_EQ(journalled.ended_units.size(), 25u);
  EXPECT_TRUE(snapshotted.ended_units.empty()) << "not kept: every record was written";
  ASSERT_EQ(journalled.series.size(), snapshotted.series.size());
  for (size_t i = 0; i < journalled.series.size(); ++i) {
    const SeriesState &a = journalled.series[i], &b = snapshotted.series[i];
    EXPECT_EQ(a.key, b.key);
    for (size_t d = 0; d < kCounterDomains; ++d) {
      EXPECT_TRUE(same_counts(a.ended[d], b.ended[d])) << L(a.key);
      EXPECT_TRUE(same_counts(a.instance_start[d], b.instance_start[d])) << L(a.key);
    }
    EXPECT_EQ(a.open, b.open);
    EXPECT_EQ(a.ended_at, b.ended_at);
  }
  ASSERT_TRUE(life.journal->snapshot(life.h.tracker->state(), true));
}

// Found by fuzzing: numbers the journal never writes (fractions, exponents,
// negative ids) were converted by nlohmann's casts (undefined behaviour past
// uint64) and wrapped; now such a line is unreadable and changes nothing.
TEST(TrackerState, NumbersNotWrittenByTheJournalMakeALineUnreadable) {
  const std::string k = R"(["slurm","7","/j",""])";
  for (const std::string& line :
       {R"({"f":1,"k":)" + k + R"(,"t":[[1e300],[],[]]})", R"({"f":1,"k":)" + k + R"(,"t":[[1.5],[],[]]})",
        R"({"f":-1,"k":)" + k + R"(,"t":[[1],[],[]]})", R"({"n":)" + k + R"(,"at":18446744073709551615})"}) {
    const RestoredState st = replay_journal(line + "\n");
    EXPECT_EQ(st.unreadable, 1u) << line;
    EXPECT_EQ(st.lines, 0u) << line;
    EXPECT_TRUE(st.series.empty()) << line;
    EXPECT_TRUE(st.folded_ids.empty()) << line;
  }
}

}  // namespace
}  // namespace cgio
