#include <grp.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "accounting/accounting_log.h"

namespace cgio {
namespace {

using namespace std::chrono;
namespace fs = std::filesystem;

constexpr char kBoot[] = "6f0c1e2a-9b3d-4c5e-8f7a-1b2c3d4e5f60";
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cgio-accounting-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(root_, ec)) {
      if (e.is_directory()) fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }
  std::string file() const { return root_ + "/accounting.jsonl"; }

 private:
  std::string root_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spew(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

system_clock::time_point at(sys_days day, system_clock::duration since_midnight) {
  return system_clock::time_point(day) + since_midnight;
}

AccountingRecord slurm_job(uint64_t cgroup_id, const std::string& job = "42") {
  AccountingRecord r;
  r.workload = "slurm";
  r.workload_id = job;
  r.cgroup = "/system.slice/slurmstepd.scope/job_" + job;
  r.cgroup_id = cgroup_id;
  r.first_seen = at(sys_days{2026y / November / 22}, 3h + 14min + 15s + 926ms + 535us);
  r.ended = at(sys_days{2026y / November / 23}, 5ms);
  r.counters = {{"cgio_vfs_read_bytes_total", 1048576}, {"cgio_vfs_writes_total", 3}};
  return r;
}

AccountingLog open_log(const std::string& path, const std::string& boot = kBoot) {
  auto log = AccountingLog::open(path, boot);
  if (!log) ADD_FAILURE() << log.error().message;
  return std::move(log).value();
}

bool append(AccountingLog& log, const AccountingRecord& r) {
  auto done = log.append(r);
  if (!done) ADD_FAILURE() << done.error().message;
  return done.ok() && done.value();
}

TEST(AccountingLog, WritesTheExactLine) {
  TempDir dir;
  auto log = open_log(dir.file());
  ASSERT_TRUE(append(log, slurm_job(7340)));
  EXPECT_EQ(slurp(dir.file()),
            "{\"workload\":\"slurm\",\"workload_id\":\"42\","
            "\"cgroup\":\"/system.slice/slurmstepd.scope/job_42\",\"cgroup_id\":7340,"
            "\"boot_id\":\"6f0c1e2a-9b3d-4c5e-8f7a-1b2c3d4e5f60\","
            "\"first_seen\":\"2026-11-22T03:14:15.926Z\",\"ended\":\"2026-11-23T00:00:00.005Z\","
            "\"counters\":{\"cgio_vfs_read_bytes_total\":1048576,\"cgio_vfs_writes_total\":3}}\n");
  EXPECT_EQ(log.path(), dir.file());
  EXPECT_EQ(log.records_known(), 1u);
}

TEST(AccountingLog, StepFollowsWorkloadIdWhenSet) {
  auto r = slurm_job(1);
  r.step = "batch";
  r.counters.clear();
  EXPECT_EQ(format_accounting_line(r, "b"),
            "{\"workload\":\"slurm\",\"workload_id\":\"42\",\"step\":\"batch\","
            "\"cgroup\":\"/system.slice/slurmstepd.scope/job_42\",\"cgroup_id\":1,\"boot_id\":\"b\","
            "\"first_seen\":\"2026-11-22T03:14:15.926Z\",\"ended\":\"2026-11-23T00:00:00.005Z\","
            "\"counters\":{}}\n");
}

std::string first_seen_of(system_clock::time_point t) {
  auto r = slurm_job(1);
  r.first_seen = t;
  const std::string line = format_accounting_line(r, "b");
  const std::string key = "\"first_seen\":\"";
  const size_t start = line.find(key) + key.size();
  return line.substr(start, line.find('"', start) - start);
}

TEST(AccountingLog, TimesAreUtcMillisecondsTruncated) {
  EXPECT_EQ(first_seen_of(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  // Truncation towards the past, also before the epoch: never the next second.
  EXPECT_EQ(first_seen_of(system_clock::time_point{} - 1us), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(first_seen_of(at(sys_days{2024y / February / 29}, -1us)), "2024-02-28T23:59:59.999Z");
  EXPECT_EQ(first_seen_of(at(sys_days{2024y / February / 29}, 23h + 59min + 59s + 999999us)),
            "2024-02-29T23:59:59.999Z");
}

TEST(AccountingLog, EscapesAwkwardCgroupPaths) {
  TempDir dir;
  auto log = open_log(dir.file());
  auto r = slurm_job(9);
  r.workload_id = "say \"hi\"";
  r.cgroup = std::string("/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/a\"b\\c") + "\x01\n\t\x1f\x7f/" +
             "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/" +  // valid: e-acute, euro, emoji stay raw
             "\xff\xc0\xaf/" +                          // never valid; overlong '/'
             "\xed\xa0\x80/" +                          // a UTF-16 surrogate
             "\xe2\x82/" +                              // a cut sequence
             "\xf4\x90\x80\x80";                        // past U+10FFFF
  r.counters = {{"odd\"name", 1}};
  ASSERT_TRUE(append(log, r));
  const std::string line = slurp(dir.file());
  const std::string expected_cgroup =
      "\"cgroup\":\"/machine.slice/machine-qemu\\\\x2d1\\\\x2dvm1.scope/a\\\"b\\\\c"
      "\\u0001\\u000a\\u0009\\u001f\x7f/"
      "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/"
      "\\u00ff\\u00c0\\u00af/"
      "\\u00ed\\u00a0\\u0080/"
      "\\u00e2\\u0082/"
      "\\u00f4\\u0090\\u0080\\u0080\",";
  EXPECT_NE(line.find(expected_cgroup), std::string::npos) << line;
  EXPECT_NE(line.find("\"workload_id\":\"say \\\"hi\\\"\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"counters\":{\"odd\\\"name\":1}"), std::string::npos) << line;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    EXPECT_GE(static_cast<unsigned char>(line[i]), 0x20) << "raw control byte at " << i;
  }
  // The restart scan parses the line as a complete JSON object.
  EXPECT_EQ(open_log(dir.file()).records_known(), 1u);
}

TEST(AccountingLog, Uint64MaxIsExact) {
  TempDir dir;
  auto log = open_log(dir.file());
  auto r = slurm_job(kMax);
  r.counters = {{"cgio_vfs_read_bytes_total", kMax}, {"cgio_vfs_reads_total", 0}};
  r.labelled = {{"cgio_net_sent_bytes_total", {{"family", "ipv6"}, {"protocol", "udp"}}, kMax}};
  ASSERT_TRUE(append(log, r));
  const std::string line = slurp(dir.file());
  EXPECT_NE(line.find("\"cgroup_id\":18446744073709551615,"), std::string::npos) << line;
  EXPECT_NE(line.find("\"counters\":{\"cgio_vfs_read_bytes_total\":18446744073709551615,"
                      "\"cgio_vfs_reads_total\":0}"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"value\":18446744073709551615}]}\n"), std::string::npos) << line;
  auto reopened = open_log(dir.file());
  EXPECT_EQ(reopened.records_known(), 1u);
  auto again = reopened.append(r);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again.value()) << "the scan must read back uint64 max exactly";
}

TEST(AccountingLog, LabelledCounters) {
  auto r = slurm_job(5);
  r.counters = {{"cgio_vfs_opens_total", 2}};
  r.labelled = {{"cgio_net_sent_bytes_total", {{"family", "ipv4"}, {"protocol", "tcp"}}, 10000},
                {"cgio_net_receives_total", {{"family", "ipv6"}, {"protocol", "udp"}}, 7},
                {"no_labels", {}, 0}};
  EXPECT_EQ(format_accounting_line(r, "b"),
            "{\"workload\":\"slurm\",\"workload_id\":\"42\","
            "\"cgroup\":\"/system.slice/slurmstepd.scope/job_42\",\"cgroup_id\":5,\"boot_id\":\"b\","
            "\"first_seen\":\"2026-11-22T03:14:15.926Z\",\"ended\":\"2026-11-23T00:00:00.005Z\","
            "\"counters\":{\"cgio_vfs_opens_total\":2},\"labelled\":["
            "{\"name\":\"cgio_net_sent_bytes_total\",\"labels\":{\"family\":\"ipv4\",\"protocol\":\"tcp\"},"
            "\"value\":10000},"
            "{\"name\":\"cgio_net_receives_total\",\"labels\":{\"family\":\"ipv6\",\"protocol\":\"udp\"},"
            "\"value\":7},"
            "{\"name\":\"no_labels\",\"labels\":{},\"value\":0}]}\n");
}

TEST(AccountingLog, NoSecondRecordForAUnitAfterRestart) {
  TempDir dir;
  {
    auto log = open_log(dir.file());
    EXPECT_TRUE(append(log, slurm_job(100, "1")));
    EXPECT_TRUE(append(log, slurm_job(200, "2")));
    EXPECT_FALSE(append(log, slurm_job(100, "1"))) << "same process, same unit";
  }
  const std::string before = slurp(dir.file());
  auto restarted = open_log(dir.file());
  EXPECT_EQ(restarted.records_known(), 2u);
  EXPECT_FALSE(append(restarted, slurm_job(100, "1")));
  EXPECT_FALSE(append(restarted, slurm_job(200, "2")));
  EXPECT_EQ(slurp(dir.file()), before);
  EXPECT_TRUE(append(restarted, slurm_job(300, "3")));
  EXPECT_EQ(restarted.records_known(), 3u);
  EXPECT_EQ(slurp(dir.file()), before + format_accounting_line(slurm_job(300, "3"), kBoot));
}

TEST(AccountingLog, AnotherBootMayReuseACgroupId) {
  TempDir dir;
  {
    auto old_boot = open_log(dir.file(), "old-boot");
    ASSERT_TRUE(append(old_boot, slurm_job(100, "1")));
  }
  auto log = open_log(dir.file());
  EXPECT_EQ(log.records_known(), 0u);
  EXPECT_TRUE(append(log, slurm_job(100, "2")));
  EXPECT_EQ(slurp(dir.file()), format_accounting_line(slurm_job(100, "1"), "old-boot") +
                                   format_accounting_line(slurm_job(100, "2"), kBoot));
  EXPECT_EQ(open_log(dir.file(), "old-boot").records_known(), 1u);
  EXPECT_EQ(open_log(dir.file(), kBoot).records_known(), 1u);
  EXPECT_EQ(open_log(dir.file(), "third-boot").records_known(), 0u);
}

TEST(AccountingLog, LineCutByACrashIsEndedAndItsUnitRecordedAgain) {
  TempDir dir;
  const std::string whole = format_accounting_line(slurm_job(1, "1"), kBoot);
  const std::string cut_line = format_accounting_line(slurm_job(2, "2"), kBoot);
  // Cut after boot_id and cgroup_id made it to disk: still not a record.
  const std::string cut = cut_line.substr(0, cut_line.find("\"counters\"") + 14);
  spew(dir.file(), whole + cut);
  auto log = open_log(dir.file());
  EXPECT_EQ(log.records_known(), 1u);
  EXPECT_FALSE(append(log, slurm_job(1, "1")));
  EXPECT_TRUE(append(log, slurm_job(2, "2")));
  EXPECT_EQ(slurp(dir.file()), whole + cut + "\n" + cut_line);
  EXPECT_EQ(open_log(dir.file()).records_known(), 2u);
}

TEST(AccountingLog, CompleteLastLineWithoutNewlineCounts) {
  TempDir dir;
  std::string line = format_accounting_line(slurm_job(1), kBoot);
  line.pop_back();
  spew(dir.file(), line);
  auto log = open_log(dir.file());
  EXPECT_EQ(log.records_known(), 1u);
  EXPECT_TRUE(append(log, slurm_job(2)));
  EXPECT_EQ(slurp(dir.file()), line + "\n" + format_accounting_line(slurm_job(2), kBoot));
}

TEST(AccountingLog, ScanToleratesLinesThatAreNotRecords) {
  TempDir dir;
  const std::string b = std::string("\"boot_id\":\"") + kBoot + "\"";
  std::string text;
  text += "not json\n\n{}\n[1,2]\n\"string\"\n";
  text += "{" + b + ",\"cgroup_id\":18,\"deep\":" + std::string(10000, '[') + std::string(10000, ']') + "}\n";
  text += "{" + b + ",\"cgroup_id\":\"7\"}\n";
  text += "{" + b + ",\"cgroup_id\":-8}\n";
  text += "{" + b + ",\"cgroup_id\":9.0}\n";
  text += "{" + b + ",\"cgroup_id\":1e1}\n";
  text += "{" + b + ",\"cgroup_id\":18446744073709551616}\n";
  text += "{" + b + ",\"cgroup_id\":11} trailing\n";
  text += "{" + b + ",\"cgroup_id\":12,}\n";
  text += "{\"cgroup_id\":13}\n";
  text += "{" + b + ",\"cgroup_id\":14,\"x\":\"bad \\escape\"}\n";
  text += "{" + b + ",\"cgroup_id\":15,\"x\":\"raw\ttab\"}\n";
  text += "{\"nested\":{" + b + ",\"cgroup_id\":16}}\n";
  // An over-long line is skipped without being held, and the next line is read.
  text += "{" + b + ",\"cgroup_id\":17,\"pad\":\"" + std::string(AccountingLog::kMaxLineBytes, 'x') + "\"}\n";
  // Records from other writers: any whitespace, extra fields, any order.
  text += "{ \"cgroup_id\" : 20 , \"extra\" : {\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\"]} , " + b + " }\r\n";
  text += "{" + b + ",\"cgroup_id\":21}\n";
  spew(dir.file(), text);
  auto log = open_log(dir.file());
  EXPECT_EQ(log.records_known(), 2u);
  EXPECT_FALSE(append(log, slurm_job(20)));
  EXPECT_FALSE(append(log, slurm_job(21)));
  for (uint64_t id = 7; id <= 18; ++id) {
    EXPECT_TRUE(append(log, slurm_job(id))) << "cgroup id " << id;
  }
}

TEST(AccountingLog, RotationByRenameStartsANewFile) {
  TempDir dir;
  auto log = open_log(dir.file());
  ASSERT_TRUE(append(log, slurm_job(1, "1")));
  fs::rename(dir.file(), dir.file() + ".1");
  ASSERT_TRUE(append(log, slurm_job(2, "2")));
  EXPECT_EQ(slurp(dir.file()), format_accounting_line(slurm_job(2, "2"), kBoot));
  EXPECT_EQ(slurp(dir.file() + ".1"), format_accounting_line(slurm_job(1, "1"), kBoot));
  EXPECT_FALSE(append(log, slurm_job(1, "1"))) << "rotation must not forget what was written";
}

TEST(AccountingLog, RotationByDeleteStartsANewFile) {
  TempDir dir;
  auto log = open_log(dir.file());
  ASSERT_TRUE(append(log, slurm_job(1, "1")));
  const std::string kept = dir.root() + "/still-open-elsewhere";
  fs::create_hard_link(dir.file(), kept);  // keeps the deleted inode readable
  fs::remove(dir.file());
  ASSERT_TRUE(append(log, slurm_job(2, "2")));
  EXPECT_EQ(slurp(dir.file()), format_accounting_line(slurm_job(2, "2"), kBoot));
  EXPECT_EQ(slurp(kept), format_accounting_line(slurm_job(1, "1"), kBoot));
}

TEST(AccountingLog, CopyTruncateLeavesNoHole) {
  TempDir dir;
  auto log = open_log(dir.file());
  ASSERT_TRUE(append(log, slurm_job(1, "1")));
  fs::copy_file(dir.file(), dir.file() + ".1");
  fs::resize_file(dir.file(), 0);
  ASSERT_TRUE(append(log, slurm_job(2, "2")));
  EXPECT_EQ(slurp(dir.file()), format_accounting_line(slurm_job(2, "2"), kBoot));
  EXPECT_EQ(slurp(dir.file() + ".1"), format_accounting_line(slurm_job(1, "1"), kBoot));
}

TEST(AccountingLog, CreatesTheFileWithMode0640AndWritesNothing) {
  TempDir dir;
  const mode_t old_mask = ::umask(022);
  auto log = AccountingLog::open(dir.file(), kBoot);
  ::umask(old_mask);
  ASSERT_TRUE(log) << log.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(dir.file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(log->records_known(), 0u);
}

// The message open() gives for `path`, run as an unprivileged user when we
// are root (root ignores directory permissions). Empty when open succeeded.
std::string open_error_unprivileged(const std::string& path, bool* skipped) {
  *skipped = false;
  if (::geteuid() != 0) {
    auto log = AccountingLog::open(path, kBoot);
    return log ? std::string() : log.error().message;
  }
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      msg = "SKIP cannot become nobody: " + std::string(std::strerror(errno));
    } else {
      auto log = AccountingLog::open(path, kBoot);
      msg = log ? "OPENED" : "ERROR " + log.error().message;
    }
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (msg.rfind("SKIP ", 0) == 0) {
    *skipped = true;
    return msg;
  }
  if (msg.rfind("ERROR ", 0) == 0) return msg.substr(6);
  return msg == "OPENED" ? std::string() : "child failed: " + msg;
}

TEST(AccountingLog, UnwritableDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  const std::string ro = dir.root() + "/read-only";
  fs::create_directory(ro);
  fs::permissions(dir.root(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec);
  const std::string path = ro + "/accounting.jsonl";
  bool skipped = false;
  const std::string err = open_error_unprivileged(path, &skipped);
  if (skipped) GTEST_SKIP() << err;
  EXPECT_EQ(err, "cannot open accounting file " + path + ": Permission denied");
  EXPECT_FALSE(fs::exists(path));
}

TEST(AccountingLog, OpenRefusesWhatIsNotAFile) {
  TempDir dir;
  const std::string under_file = dir.file() + "/nested.jsonl";
  spew(dir.file(), "");
  auto not_dir = AccountingLog::open(under_file, kBoot);
  ASSERT_FALSE(not_dir);
  EXPECT_EQ(not_dir.error().message, "cannot open accounting file " + under_file + ": Not a directory");
  auto is_dir = AccountingLog::open(dir.root(), kBoot);
  ASSERT_FALSE(is_dir);
  EXPECT_EQ(is_dir.error().message, "cannot open accounting file " + dir.root() + ": Is a directory");
  auto device = AccountingLog::open("/dev/null", kBoot);
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().message, "accounting file /dev/null: not a regular file");
  EXPECT_FALSE(AccountingLog::open(dir.file(), ""));
}

TEST(AccountingLog, FailedAppendIsNotRememberedAndCanBeRetried) {
  TempDir dir;
  auto log = open_log(dir.file());
  fs::remove(dir.file());
  fs::create_directory(dir.file());  // something in the way of the next record
  auto failed = log.append(slurm_job(1));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "cannot open accounting file " + dir.file() + ": Is a directory");
  EXPECT_EQ(log.records_known(), 0u);
  fs::remove(dir.file());
  EXPECT_TRUE(append(log, slurm_job(1)));
  EXPECT_EQ(slurp(dir.file()), format_accounting_line(slurm_job(1), kBoot));
}

// The file may grow by only `room` more bytes, as on a full disk: write(2)
// comes back short, then fails with EFBIG.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t limit) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim = old_;
    lim.rlim_cur = limit;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(AccountingLog, ShortWriteIsAnErrorAndLeavesNoFragment) {
  TempDir dir;
  auto log = open_log(dir.file());
  ASSERT_TRUE(append(log, slurm_job(1, "1")));
  const std::string first = slurp(dir.file());
  const std::string second = format_accounting_line(slurm_job(2, "2"), kBoot);
  {
    FileSizeLimit limit(first.size() + 20);
    auto full = log.append(slurm_job(2, "2"));
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().message, "cannot write accounting file " + dir.file() + ": File too large");
  }
  EXPECT_EQ(slurp(dir.file()), first) << "the short write's 20 bytes are cut off again";
  EXPECT_EQ(log.records_known(), 1u);
  EXPECT_TRUE(append(log, slurm_job(2, "2")));
  EXPECT_EQ(slurp(dir.file()), first + second);
  EXPECT_EQ(open_log(dir.file()).records_known(), 2u);
}

TEST(AccountingLog, RefusesARecordTheScanCouldNotReadBack) {
  TempDir dir;
  auto log = open_log(dir.file());
  auto r = slurm_job(1);
  r.cgroup = "/" + std::string(AccountingLog::kMaxLineBytes, 'x');
  auto refused = log.append(r);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("too long for " + dir.file()), std::string::npos) << refused.error().message;
  EXPECT_EQ(slurp(dir.file()), "");
  EXPECT_EQ(log.records_known(), 0u);
}

TEST(ReadBootId, ReadsAndTrimsTheFixture) {
  auto id = read_boot_id(CGIO_FIXTURES "/procfs-boot-id");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, kBoot);
}

TEST(ReadBootId, MissingOrEmptyIsAnError) {
  TempDir dir;
  auto missing = read_boot_id(dir.root());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "cannot read " + dir.root() + "/sys/kernel/random/boot_id: No such file or directory");
  fs::create_directories(dir.root() + "/sys/kernel/random");
  spew(dir.root() + "/sys/kernel/random/boot_id", "\n");
  auto empty = read_boot_id(dir.root());
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "empty boot id in " + dir.root() + "/sys/kernel/random/boot_id");
}

}  // namespace
}  // namespace cgio
