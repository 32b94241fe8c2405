// The accounting file: one JSON line per ended unit (a Slurm job, a pod, a
// container, a service) with its totals, appended to a file that sites
// ingest into their job accounting. A unit gets at most one line per boot,
// even across exporter restarts, because billing double-counts otherwise.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "util/result.h"

namespace cgio {

struct AccountingRecord {
  std::string workload;     // e.g. "slurm"
  std::string workload_id;  // e.g. "42"
  std::string step;         // empty unless per-step accounting; then omitted from the JSON
  std::string cgroup;       // any bytes; invalid UTF-8 is escaped (see accounting_log.cpp)
  uint64_t cgroup_id = 0;   // kernfs id; with the boot id and cgroup_v1, identifies the unit
  bool cgroup_v1 = false;   // hybrid hosts: the unit's cgroup is in the v1 hierarchy (ids overlap)
  // cgio_workload_info's labels for the unit (user, name, namespace, ...).
  std::vector<std::pair<std::string, std::string>> info;
  std::chrono::system_clock::time_point first_seen, ended;
  // Set when the unit ended while no exporter ran and nothing recorded when:
  // it ended at some time between this and `ended`.
  std::optional<std::chrono::system_clock::time_point> ended_after;
  std::vector<std::pair<std::string, uint64_t>> counters;  // written in this order
  struct LabelledCounter {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    uint64_t value;
  };
  std::vector<LabelledCounter> labelled;
};

// A record ready for the file: its line and its unit's dedupe key.
struct RecordLine {
  uint64_t key = 0;  // the cgroup id, with CGIO_V1_KEY_BIT for cgroup_v1 (the counter maps' key)
  std::string line;  // one JSON object and its newline
  std::string unit;  // the cgroup, for log lines
  // The boot the record is of: empty for the running one; set for records
  // of an earlier boot kept in the spool (accounting/spool.h).
  std::string boot_id;
};

// Where records go: the accounting file (AccountingLog), or a test's fake.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Appends the lines of `batch` whose unit has no record yet, in one
  // write(2) and one fsync. On an Error, lines the file shows complete
  // afterwards count as written (written() is true for their key) and the
  // rest are not: calling again with them retries.
  virtual Result<void> append(std::span<const RecordLine> batch) = 0;
  // Whether the record's unit (of its boot) has a record in the file.
  virtual bool written(const RecordLine& r) const = 0;
};

// Not thread-safe: one owner appends (AccountingWriter's thread).
class AccountingLog final : public RecordSink {
 public:
  // Longest line (without its newline) the dedupe scan considers, so that
  // the scan's memory stays bounded; line() refuses longer records, as the
  // scan would not see them after a restart. Real records are a few KiB.
  static constexpr size_t kMaxLineBytes = 1 << 20;

  // Opens (creating if needed, mode 0640) the file at `path` and reads it
  // once to learn which units of `boot_id`, and of `other_boots` (those of
  // spooled records), already have a record.
  static Result<AccountingLog> open(const std::string& path, std::string boot_id,
                                    const std::vector<std::string>& other_boots = {});

  // `r` as this file's line (with this boot's id); an Error if too long.
  Result<RecordLine> line(const AccountingRecord& r) const;

  Result<void> append(std::span<const RecordLine> batch) override;
  bool written(const RecordLine& r) const override;
  // Whether this boot's unit `key` has a record.
  bool written(uint64_t key) const { return known_.contains(key); }

  // One record: true when written, false when its unit already had one.
  Result<bool> append(const AccountingRecord& r);

  const std::string& path() const { return path_; }
  const std::string& boot_id() const { return boot_id_; }
  size_t records_known() const { return known_.size(); }

 private:
  AccountingLog(std::string path, std::string boot_id);
  // Reads the file from byte `from` on and remembers this boot's units
  // found in complete lines.
  Result<void> scan(int fd, off_t from);

  std::string path_;
  std::string boot_id_;
  // Units of this boot with a record (RecordLine::key).
  std::unordered_set<uint64_t> known_;
  // The same for the other boots asked about at open().
  std::map<std::string, std::unordered_set<uint64_t>, std::less<>> other_known_;
};

// One line of an accounting file or spool as a record to write: its key
// and boot from the line itself (boot_id left empty when it is
// `this_boot`). Nothing when the line is not one complete record.
std::optional<RecordLine> parse_record_line(std::string_view line, std::string_view this_boot);

// The record's line, with its trailing newline (exposed for tests).
std::string format_accounting_line(const AccountingRecord& r, std::string_view boot_id);

// The current boot id from <procfs>/sys/kernel/random/boot_id, trimmed.
Result<std::string> read_boot_id(const std::string& procfs);

}  // namespace cgio
