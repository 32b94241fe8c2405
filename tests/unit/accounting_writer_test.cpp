// The accounting writer: its queue, retries and group commit, over a sink
// that fails on demand; and the file's batch append recovering from a
// write cut short.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "accounting/accounting_writer.h"
#include "accounting/spool.h"

namespace cgio {
namespace {

using namespace std::chrono_literals;

RecordLine record(uint64_t key) {
  return {key, "{\"cgroup_id\":" + std::to_string(key) + "}\n", "/job_" + std::to_string(key), {}};
}

// Keeps what it was given; fails while `fail` is set, or writes only the
// first `partial` lines of the next batch before failing (a short write).
class FakeSink final : public RecordSink {
 public:
  struct State {
    std::mutex m;
    std::vector<std::vector<uint64_t>> batches;  // keys per successful or partial append
    std::set<uint64_t> in_file;
    std::vector<uint64_t> order;  // keys as they reached the file
    bool fail = false;
    size_t partial = SIZE_MAX;
    int attempts = 0;
    std::atomic<bool> slow{false};  // the next append takes 200 ms
  };
  explicit FakeSink(std::shared_ptr<State> s) : s_(std::move(s)) {}

  Result<void> append(std::span<const RecordLine> batch) override {
    if (s_->slow.exchange(false)) std::this_thread::sleep_for(200ms);
    std::lock_guard lock(s_->m);
    ++s_->attempts;
    if (s_->fail) return Error{"No space left on device", ENOSPC};
    std::vector<uint64_t> keys;
    size_t n = 0;
    for (const RecordLine& r : batch) {
      if (s_->in_file.contains(r.key)) continue;
      if (n++ == s_->partial) {
        s_->partial = SIZE_MAX;
        s_->batches.push_back(keys);
        return Error{"No space left on device", ENOSPC};
      }
      s_->in_file.insert(r.key);
      s_->order.push_back(r.key);
      keys.push_back(r.key);
    }
    s_->batches.push_back(keys);
    return {};
  }
  bool written(const RecordLine& r) const override {
    std::lock_guard lock(s_->m);
    return s_->in_file.contains(r.key);
  }

 private:
  std::shared_ptr<State> s_;
};

AccountingWriter::Config quick(size_t max_pending = 1000) {
  AccountingWriter::Config c;
  c.max_pending = max_pending;
  c.retry_first = 5ms;
  c.retry_max = 20ms;
  return c;
}

TEST(AccountingWriter, WritesEveryRecordOnceInOrder) {
  auto state = std::make_shared<FakeSink::State>();
  AccountingWriter w(std::make_unique<FakeSink>(state), quick());
  for (uint64_t k = 1; k <= 100; ++k) EXPECT_TRUE(w.submit(record(k)));
  ASSERT_TRUE(w.wait_idle(5s));
  const auto st = w.stats();
  EXPECT_EQ(st.written, 100u);
  EXPECT_EQ(st.pending, 0u);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.write_errors, 0u);
  std::vector<uint64_t> expected;
  for (uint64_t k = 1; k <= 100; ++k) expected.push_back(k);
  std::lock_guard lock(state->m);
  EXPECT_EQ(state->order, expected);
}

TEST(AccountingWriter, RecordsArrivingDuringAWriteGoOutInOneGroupCommit) {
  auto state = std::make_shared<FakeSink::State>();
  AccountingWriter w(std::make_unique<FakeSink>(state), quick());
  state->slow = true;
  w.submit(record(1));  // taken at once; its append takes 200 ms
  std::this_thread::sleep_for(50ms);
  for (uint64_t k = 2; k <= 501; ++k) w.submit(record(k));
  ASSERT_TRUE(w.wait_idle(5s));
  std::lock_guard lock(state->m);
  ASSERT_EQ(state->batches.size(), 2u) << "one append for the first record, one for the 500 queued behind it";
  EXPECT_EQ(state->batches[0].size(), 1u);
  EXPECT_EQ(state->batches[1].size(), 500u);
}

TEST(AccountingWriter, AFailingFileKeepsRecordsQueuedUntilItWorksAgain) {
  auto state = std::make_shared<FakeSink::State>();
  AccountingWriter w(std::make_unique<FakeSink>(state), quick());
  state->fail = true;
  for (uint64_t k = 1; k <= 10; ++k) w.submit(record(k));
  for (;;) {
    {
      std::lock_guard lock(state->m);
      if (state->attempts >= 3) break;
    }
    std::this_thread::sleep_for(1ms);
  }
  auto st = w.stats();
  EXPECT_EQ(st.pending, 10u);
  EXPECT_EQ(st.written, 0u);
  EXPECT_GE(st.write_errors, 3u);
  EXPECT_EQ(st.last_error, "No space left on device");
  EXPECT_FALSE(w.wait_idle(50ms));
  {
    std::lock_guard lock(state->m);
    state->fail = false;
  }
  ASSERT_TRUE(w.wait_idle(5s));
  st = w.stats();
  EXPECT_EQ(st.written, 10u);
  EXPECT_EQ(st.pending, 0u);
  EXPECT_EQ(st.dropped, 0u);
  std::lock_guard lock(state->m);
  EXPECT_EQ(state->in_file.size(), 10u);
}

TEST(AccountingWriter, AShortWriteRetriesOnlyTheRecordsNotInTheFile) {
  auto state = std::make_shared<FakeSink::State>();
  state->partial = 4;  // the first append gets 4 lines in, then the disk is full
  state->slow = true;  // so that all 10 are queued for that first append
  AccountingWriter w(std::make_unique<FakeSink>(state), quick());
  w.submit(record(100));
  std::this_thread::sleep_for(50ms);
  for (uint64_t k = 1; k <= 10; ++k) w.submit(record(k));
  ASSERT_TRUE(w.wait_idle(5s));
  const auto st = w.stats();
  EXPECT_EQ(st.written, 11u);
  EXPECT_EQ(st.write_errors, 1u);
  std::lock_guard lock(state->m);
  std::vector<uint64_t> expected = {100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(state->order, expected) << "nothing twice, nothing out of order";
}

TEST(AccountingWriter, PastTheBoundARecordIsDroppedAndCounted) {
  auto state = std::make_shared<FakeSink::State>();
  state->fail = true;
  AccountingWriter w(std::make_unique<FakeSink>(state), quick(5));
  for (uint64_t k = 1; k <= 5; ++k) EXPECT_TRUE(w.submit(record(k)));
  EXPECT_FALSE(w.submit(record(6)));
  EXPECT_FALSE(w.submit(record(7)));
  auto st = w.stats();
  EXPECT_EQ(st.dropped, 2u);
  EXPECT_EQ(st.pending, 5u);
  {
    std::lock_guard lock(state->m);
    state->fail = false;
  }
  ASSERT_TRUE(w.wait_idle(5s));
  EXPECT_EQ(w.stats().written, 5u);
}

TEST(AccountingWriter, AUnitAlreadyInTheFileIsNotWrittenAgain) {
  auto state = std::make_shared<FakeSink::State>();
  state->in_file = {7};  // recorded before a restart
  AccountingWriter w(std::make_unique<FakeSink>(state), quick());
  w.submit(record(7));
  w.submit(record(8));
  ASSERT_TRUE(w.wait_idle(5s));
  EXPECT_EQ(w.stats().written, 1u);
  std::lock_guard lock(state->m);
  EXPECT_EQ(state->order, std::vector<uint64_t>{8});
}

TEST(AccountingWriter, ExitWritesWhatIsQueued) {
  auto state = std::make_shared<FakeSink::State>();
  {
    AccountingWriter w(std::make_unique<FakeSink>(state), quick());
    state->slow = true;
    for (uint64_t k = 1; k <= 50; ++k) w.submit(record(k));
  }
  std::lock_guard lock(state->m);
  EXPECT_EQ(state->in_file.size(), 50u);
}

// --- the file's batch append ---------------------------------------------

constexpr char kBoot[] = "0b7a7c1e-1111-4222-8333-944455556666";

AccountingRecord job(uint64_t id) {
  AccountingRecord r;
  r.workload = "slurm";
  r.workload_id = std::to_string(id);
  r.cgroup = "/slurm/uid_0/job_" + std::to_string(id);
  r.cgroup_id = id;
  r.counters = {{"cgio_vfs_read_bytes_total", id * 1000}};
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AccountingLogBatch, AShortWriteLeavesNoFragmentAndTheRetryWritesTheWholeBatch) {
  char tmpl[] = "/tmp/cgio-batch-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string path = dir + "/a.jsonl";
  auto opened = AccountingLog::open(path, kBoot);
  ASSERT_TRUE(opened) << opened.error().message;
  AccountingLog& log = opened.value();
  std::vector<RecordLine> batch;
  std::string all;
  for (uint64_t id = 1; id <= 5; ++id) {
    batch.push_back(log.line(job(id)).value());
    all += batch.back().line;
  }
  const size_t cut = batch[0].line.size() + batch[1].line.size() + 10;  // two lines and a bit of the third
  {
    rlimit old{};
    ::getrlimit(RLIMIT_FSIZE, &old);
    auto handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim = old;
    lim.rlim_cur = cut;
    ::setrlimit(RLIMIT_FSIZE, &lim);
    auto failed = log.append(batch);
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, handler);
    ASSERT_FALSE(failed);
  }
  EXPECT_EQ(slurp(path), "") << "the batch's part is cut off again: no fragment is left";
  for (uint64_t id = 1; id <= 5; ++id) EXPECT_FALSE(log.written(id));
  ASSERT_TRUE(log.append(batch));
  EXPECT_EQ(slurp(path), all);
  auto reopened = AccountingLog::open(path, kBoot);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->records_known(), 5u);
  std::filesystem::remove_all(dir);
}

// --- the spool -------------------------------------------------------------

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/cgio-spool-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(AccountingSpool, RecordsLeftAtExitAreSpooledAndWrittenByTheNextWriter) {
  TempDir dir;
  const std::string spool = dir.path + "/a.jsonl.spool";
  auto opened = AccountingLog::open(dir.path + "/a.jsonl", kBoot);
  ASSERT_TRUE(opened);
  std::string lines;
  auto state = std::make_shared<FakeSink::State>();
  state->fail = true;  // the file refuses everything: a full disk
  {
    auto c = quick();
    c.spool_path = spool;
    AccountingWriter w(std::make_unique<FakeSink>(state), c);
    for (uint64_t id = 1; id <= 3; ++id) {
      RecordLine r = opened->line(job(id)).value();
      lines += r.line;
      w.submit(std::move(r));
    }
    EXPECT_FALSE(w.wait_idle(50ms));
  }
  EXPECT_EQ(slurp(spool), lines) << "the three records, whole and in order";
  EXPECT_TRUE(state->in_file.empty());

  auto read = read_spool(spool, kBoot);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->records.size(), 3u);
  EXPECT_EQ(read->unreadable, 0u);
  EXPECT_EQ(read->records[1].key, 2u);
  EXPECT_EQ(read->records[1].boot_id, "") << "a record of the running boot";
  state->fail = false;  // space came back
  {
    auto c = quick();
    c.spool_path = spool;
    AccountingWriter w(std::make_unique<FakeSink>(state), c, std::move(read->records));
    w.submit(record(4));
    ASSERT_TRUE(w.wait_idle(5s));
    EXPECT_EQ(w.stats().written, 4u);
  }
  EXPECT_EQ(state->order, (std::vector<uint64_t>{1, 2, 3, 4})) << "spooled records first";
  EXPECT_FALSE(std::filesystem::exists(spool)) << "an empty spool is removed";
}

TEST(AccountingSpool, WhileTheFileFailsTheSpoolHoldsTheQueue) {
  TempDir dir;
  const std::string spool = dir.path + "/s";
  auto state = std::make_shared<FakeSink::State>();
  state->fail = true;
  auto c = quick();
  c.spool_path = spool;
  AccountingWriter w(std::make_unique<FakeSink>(state), c);
  w.submit(record(1));
  w.submit(record(2));
  // A crash now must not lose them: the spool is rewritten after a failure.
  for (int i = 0; i < 5000 && slurp(spool) != record(1).line + record(2).line; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(slurp(spool), record(1).line + record(2).line);
  {
    std::lock_guard lock(state->m);
    state->fail = false;
  }
  ASSERT_TRUE(w.wait_idle(5s));
  for (int i = 0; i < 5000 && std::filesystem::exists(spool); ++i) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(std::filesystem::exists(spool)) << "removed once everything is in the file";
}

// A record spooled in an earlier boot keeps that boot's id, and the file's
// scan knows whether it was written before the spool could be removed.
TEST(AccountingSpool, ARecordOfAnEarlierBootIsWrittenOnceWithItsBootId) {
  TempDir dir;
  const std::string path = dir.path + "/a.jsonl";
  constexpr char kEarlier[] = "11111111-2222-4333-8444-555555555555";
  const std::string one = format_accounting_line(job(1), kEarlier);
  const std::string two = format_accounting_line(job(2), kEarlier);
  {
    std::ofstream(path) << one;  // written, then a crash before the spool went
    std::ofstream(dir.path + "/s") << one << two << "{\"cut\":";
  }
  auto read = read_spool(dir.path + "/s", kBoot);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->records.size(), 2u);
  EXPECT_EQ(read->unreadable, 1u);
  EXPECT_EQ(read->records[0].boot_id, kEarlier);
  auto opened = AccountingLog::open(path, kBoot, {kEarlier});
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->written(read->records[0]));
  EXPECT_FALSE(opened->written(read->records[1]));
  EXPECT_FALSE(opened->written(1)) << "unit 1 of this boot has no record";
  ASSERT_TRUE(opened->append(read->records));
  EXPECT_EQ(slurp(path), one + two);
}

TEST(AccountingSpool, NoSpoolFileIsNoRecord) {
  auto read = read_spool("/nonexistent/cgio/spool", kBoot);
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->records.empty());
  TempDir dir;
  std::filesystem::create_directory(dir.path + "/d");
  EXPECT_FALSE(read_spool(dir.path + "/d", kBoot)) << "a spool that cannot be read is an error, not empty";
}

}  // namespace
}  // namespace cgio
