#include "accounting/accounting_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "accounting/durable_file.h"
#include "util/bpf_handles.h"

#include "contracts/cgroup_keys.h"

namespace cgio {
namespace {

// The dedupe key of a unit: the counter maps' key (contracts/cgroup_keys.h),
// since kernfs ids of the v1 and cgroup2 hierarchies overlap.
uint64_t unit_key(uint64_t cgroup_id, bool v1) { return v1 ? cgroup_id | CGIO_V1_KEY_BIT : cgroup_id; }

// O_APPEND makes each write(2) land at the end of the file as one unit with
// respect to other O_APPEND writers (on local filesystems; NFS emulates
// O_APPEND and gives no such promise), and makes copytruncate harmless: the
// next write goes to the new end, offset 0, leaving no hole.
// O_RDWR rather than O_WRONLY: the same descriptor, and so the same inode
// even if the file is renamed meanwhile, reads the last byte to see whether
// a crash left the last line unterminated. It costs no permission the
// dedupe scan at startup does not already need.
constexpr int kOpenFlags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC;
constexpr mode_t kCreateMode = 0640;

Result<void> check_regular(int fd, const std::string& path, off_t* size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_error("cannot stat accounting file " + path, errno);
  // Dedupe reads records back and durability relies on fsync: both need a
  // file (a FIFO would hand our scan someone else's data).
  if (!S_ISREG(st.st_mode)) return Error{"accounting file " + path + ": not a regular file"};
  if (size) *size = st.st_size;
  return {};
}

void append_u00(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u00";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7: no
// overlong forms, no surrogates, nothing past U+10FFFF), 0 if there is none.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c0 = byte(i);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    n = 2;
  } else if (c0 >= 0xe0 && c0 <= 0xef) {
    n = 3;
    if (c0 == 0xe0) lo = 0xa0;
    if (c0 == 0xed) hi = 0x9f;
  } else if (c0 >= 0xf0 && c0 <= 0xf4) {
    n = 4;
    if (c0 == 0xf0) lo = 0x90;
    if (c0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  return n;
}

// RFC 8259 string. Cgroup names are arbitrary bytes, so a byte that does not
// start a well-formed UTF-8 sequence is written as \u00XX of its value
// rather than replaced by U+FFFD: the byte stays recoverable by eye and by
// tools matching e.g. "\u00ff", and the line is always valid JSON. After
// standard decoding such a byte reads as U+0080..U+00FF, the same as that
// character correctly encoded; the cgroup_id, not the path, identifies the
// unit, so this ambiguity cannot merge two units. Written by hand rather
// than by nlohmann::json::dump(), which would change the records' bytes:
// it writes \n and \t where these lines have \u000a and \u0009, and it
// throws on, replaces (U+FFFD) or drops invalid UTF-8 instead of \u00XX.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      append_u00(out, c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const size_t n = utf8_sequence_length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      append_u00(out, c);
      ++i;
    }
  }
  out += '"';
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// RFC 3339, UTC, milliseconds, truncated (not rounded) so that a time never
// moves into the next second, minute or day.
void append_time(std::string& out, std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(tp);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{ms - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "\"%04d-%02u-%02uT%02d:%02d:%02d.%03dZ\"", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  out += buf;
}

// Reads one line that must be a complete JSON object (RFC 8259, checked by
// nlohmann's SAX parser) and picks out its top-level "boot_id" string and
// "cgroup_id" unsigned integer. The whole grammar rather than a search for
// the two keys: a line cut by a crash is a proper prefix of an object,
// which never closes, so it is rejected even when both fields made it to
// disk; its unit then gets a complete line. No document is built: the
// handler only keeps the two values, and a nesting deeper than kMaxDepth
// (never ours) rejects the line.
class RecordFields final : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string boot_id;
  std::optional<uint64_t> cgroup_id;
  bool cgroup_v1 = false;

  // True when `line` is one object; its fields are then in boot_id/cgroup_id.
  bool read(std::string_view line) {
    if (line.empty() || line.front() != '{') {
      // Quick path for what is not an object; also what the parser would refuse below.
      const size_t first = line.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos || line[first] != '{') return false;
    }
    return nlohmann::json::sax_parse(line.begin(), line.end(), this);
  }

  bool null() override { return value(Kind::other); }
  bool boolean(bool v) override {
    if (depth_ == 1 && key_ == Key::cgroup_v1) cgroup_v1 = v;
    return value(Kind::boolean);
  }
  bool number_integer(number_integer_t) override { return value(Kind::other); }
  bool number_unsigned(number_unsigned_t v) override {
    if (depth_ == 1 && key_ == Key::cgroup_id) cgroup_id = v;
    return value(Kind::unsigned_number);
  }
  // Fractions, exponents and integers past uint64 arrive here.
  bool number_float(number_float_t, const string_t&) override { return value(Kind::other); }
  bool string(string_t& v) override {
    if (depth_ == 1 && key_ == Key::boot_id) boot_id = std::move(v);
    return value(Kind::string);
  }
  bool binary(binary_t&) override { return false; }  // not produced by JSON text
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t& k) override {
    if (depth_ == 1) {
      key_ = k == "boot_id"     ? Key::boot_id
             : k == "cgroup_id" ? Key::cgroup_id
             : k == "cgroup_v1" ? Key::cgroup_v1
                                : Key::other;
    }
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return depth_ > 0 && open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  static constexpr int kMaxDepth = 32;
  enum class Key { other, boot_id, cgroup_id, cgroup_v1 };
  enum class Kind { other, boolean, string, unsigned_number };

  // A top-level field's value: a later duplicate key replaces an earlier one.
  bool value(Kind kind) {
    if (depth_ == 1) {
      if (key_ == Key::boot_id && kind != Kind::string) boot_id.clear();
      if (key_ == Key::cgroup_id && kind != Kind::unsigned_number) cgroup_id.reset();
      if (key_ == Key::cgroup_v1 && kind != Kind::boolean) cgroup_v1 = false;
    }
    return depth_ > 0;  // a bare top-level value is not a record
  }
  bool open() {
    if (depth_ == 1) value(Kind::other);  // an object or array as a top-level field's value
    return ++depth_ <= kMaxDepth;
  }
  bool close() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  Key key_ = Key::other;
};

}  // namespace

std::string format_accounting_line(const AccountingRecord& r, std::string_view boot_id) {
  std::string out;
  out.reserve(512 + r.cgroup.size());
  out += "{\"workload\":";
  append_json_string(out, r.workload);
  out += ",\"workload_id\":";
  append_json_string(out, r.workload_id);
  if (!r.step.empty()) {
    out += ",\"step\":";
    append_json_string(out, r.step);
  }
  out += ",\"cgroup\":";
  append_json_string(out, r.cgroup);
  out += ",\"cgroup_id\":";
  append_uint(out, r.cgroup_id);
  if (r.cgroup_v1) out += ",\"cgroup_v1\":true";
  if (!r.info.empty()) {
    out += ",\"info\":{";
    for (size_t i = 0; i < r.info.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_json_string(out, r.info[i].first);
      out.push_back(':');
      append_json_string(out, r.info[i].second);
    }
    out.push_back('}');
  }
  out += ",\"boot_id\":";
  append_json_string(out, boot_id);
  out += ",\"first_seen\":";
  append_time(out, r.first_seen);
  out += ",\"ended\":";
  append_time(out, r.ended);
  if (r.ended_after) {  // ended while no exporter ran: some time in [ended_after, ended]
    out += ",\"ended_after\":";
    append_time(out, *r.ended_after);
  }
  out += ",\"counters\":{";
  for (size_t i = 0; i < r.counters.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, r.counters[i].first);
    out += ':';
    append_uint(out, r.counters[i].second);
  }
  out += '}';
  if (!r.labelled.empty()) {
    out += ",\"labelled\":[";
    for (size_t i = 0; i < r.labelled.size(); ++i) {
      const auto& c = r.labelled[i];
      if (i > 0) out += ',';
      out += "{\"name\":";
      append_json_string(out, c.name);
      out += ",\"labels\":{";
      for (size_t k = 0; k < c.labels.size(); ++k) {
        if (k > 0) out += ',';
        append_json_string(out, c.labels[k].first);
        out += ':';
        append_json_string(out, c.labels[k].second);
      }
      out += "},\"value\":";
      append_uint(out, c.value);
      out += '}';
    }
    out += ']';
  }
  out += "}\n";
  return out;
}

AccountingLog::AccountingLog(std::string path, std::string boot_id)
    : path_(std::move(path)), boot_id_(std::move(boot_id)) {}

Result<AccountingLog> AccountingLog::open(const std::string& path, std::string boot_id,
                                          const std::vector<std::string>& other_boots) {
  if (boot_id.empty()) return Error{"accounting file " + path + ": empty boot id"};
  Fd fd(::open(path.c_str(), kOpenFlags, kCreateMode));
  if (!fd.valid()) return errno_error("cannot open accounting file " + path, errno);
  if (auto reg = check_regular(fd.get(), path, nullptr); !reg) return reg.error();
  AccountingLog log(path, std::move(boot_id));
  for (const std::string& b : other_boots) {
    if (!b.empty() && b != log.boot_id_) log.other_known_[b];
  }
  if (auto scanned = log.scan(fd.get(), 0); !scanned) return scanned.error();
  return log;
}

// One pass in fixed-size reads. Memory: the set of this boot's cgroup ids
// plus one line of at most kMaxLineBytes; a longer line is skipped without
// being held.
Result<void> AccountingLog::scan(int fd, off_t from) {
  std::vector<char> buf(64 * 1024);
  std::string line;
  bool overlong = false;
  // A record of a boot asked about holds its boot id as written: other
  // lines are not parsed at all (most lines, in a file of many boots).
  std::vector<std::string> written_boot_ids(1);
  append_json_string(written_boot_ids[0], boot_id_);
  for (const auto& [boot, keys] : other_known_) append_json_string(written_boot_ids.emplace_back(), boot);
  const auto consider = [&](std::string_view l) {
    bool wanted = false;
    for (const std::string& b : written_boot_ids) wanted = wanted || l.find(b) != std::string_view::npos;
    if (!wanted) return;
    RecordFields fields;
    if (!fields.read(l) || !fields.cgroup_id) return;
    const uint64_t key = unit_key(*fields.cgroup_id, fields.cgroup_v1);
    if (fields.boot_id == boot_id_) {
      known_.insert(key);
    } else if (auto it = other_known_.find(fields.boot_id); it != other_known_.end()) {
      it->second.insert(key);
    }
  };
  for (off_t at = from;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot read accounting file " + path_, errno);
    }
    if (n == 0) break;
    at += n;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, nl);
      if (!overlong) {
        if (line.size() + piece.size() > kMaxLineBytes) {
          overlong = true;
          line.clear();
        } else {
          line.append(piece);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!overlong) consider(line);
      line.clear();
      overlong = false;
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!overlong) consider(line);  // an unterminated last line: complete only if it closes
  return {};
}

Result<RecordLine> AccountingLog::line(const AccountingRecord& r) const {
  RecordLine out{unit_key(r.cgroup_id, r.cgroup_v1), format_accounting_line(r, boot_id_), r.cgroup, {}};
  if (out.line.size() - 1 > kMaxLineBytes) {
    return Error{"accounting record for cgroup " + std::to_string(r.cgroup_id) + " too long for " + path_ + ": " +
                 std::to_string(out.line.size() - 1) + " bytes"};
  }
  return out;
}

Result<bool> AccountingLog::append(const AccountingRecord& r) {
  auto l = line(r);
  if (!l) return l.error();
  if (written(l->key)) return false;
  if (auto done = append(std::span<const RecordLine>(&l.value(), 1)); !done) return done.error();
  return true;
}

bool AccountingLog::written(const RecordLine& r) const {
  if (r.boot_id.empty() || r.boot_id == boot_id_) return known_.contains(r.key);
  auto it = other_known_.find(r.boot_id);
  return it != other_known_.end() && it->second.contains(r.key);
}

Result<void> AccountingLog::append(std::span<const RecordLine> batch) {
  std::string out;
  std::set<std::pair<std::string_view, uint64_t>> in_batch;  // a unit twice in one batch is written once
  for (const RecordLine& r : batch) {
    const std::string_view boot = r.boot_id.empty() ? std::string_view(boot_id_) : std::string_view(r.boot_id);
    if (!written(r) && in_batch.insert({boot, r.key}).second) out += r.line;
  }
  if (out.empty()) return {};
  // Opened afresh for every batch rather than kept open: a new open always
  // follows PATH, so a rename or delete by logrotate sends the next records
  // to a new file with no dev/inode bookkeeping, no descriptor keeps a
  // deleted file alive, and a filesystem remounted read-write is used again.
  Fd fd(::open(path_.c_str(), kOpenFlags, kCreateMode));
  if (!fd.valid()) return errno_error("cannot open accounting file " + path_, errno);
  off_t size = 0;
  if (auto reg = check_regular(fd.get(), path_, &size); !reg) return reg.error();
  if (size > 0) {
    // A crash (or a failed write) can leave the last line unterminated;
    // ending it here keeps these records on lines of their own. The newline
    // goes out in the same write(2) as the records.
    char last = '\n';
    const ssize_t got = ::pread(fd.get(), &last, 1, size - 1);
    if (got < 0) return errno_error("cannot read accounting file " + path_, errno);
    // got == 0: truncated since the fstat (copytruncate), so no line to end.
    if (got == 1 && last != '\n') out.insert(out.begin(), '\n');
  }
  if (auto w = write_all(fd.get(), out, "accounting file " + path_); !w) {
    // A short write (disk full, quota) leaves part of the batch, ending in
    // a cut line. The file is the exporter's own: cutting it back to where
    // the batch began leaves no fragment, and the whole batch is retried.
    struct stat st {};
    if (::ftruncate(fd.get(), size) == 0 && ::fstat(fd.get(), &st) == 0 && st.st_size == size) return w.error();
    // Cannot (a filesystem gone read-only): what reads back as a complete
    // line of this boot counts as written, so a retry never writes a unit
    // twice; the rest, and a cut line's unit, are retried.
    (void)scan(fd.get(), size);
    return w.error();
  }
  if (auto synced = fsync_retrying(fd.get(), "accounting file " + path_); !synced) {
    // The lines are in the page cache, maybe not on disk. Reading back
    // cannot tell (after a failed fsync Linux may show lines it then
    // loses), and the retry's fsync would report success regardless: the
    // lines count as written rather than risk writing units twice.
    (void)scan(fd.get(), size);
    return synced.error();
  }
  if (size == 0) fsync_parent_dir(path_);
  for (const RecordLine& r : batch) {
    if (r.boot_id.empty() || r.boot_id == boot_id_) {
      known_.insert(r.key);
    } else {
      other_known_[r.boot_id].insert(r.key);
    }
  }
  return {};
}

std::optional<RecordLine> parse_record_line(std::string_view line, std::string_view this_boot) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.size() > AccountingLog::kMaxLineBytes) return std::nullopt;
  RecordFields fields;
  if (!fields.read(line) || !fields.cgroup_id || fields.boot_id.empty()) return std::nullopt;
  RecordLine r;
  r.key = unit_key(*fields.cgroup_id, fields.cgroup_v1);
  r.line = std::string(line) + "\n";
  r.unit = "cgroup id " + std::to_string(*fields.cgroup_id);
  if (fields.boot_id != this_boot) r.boot_id = fields.boot_id;
  return r;
}

Result<std::string> read_boot_id(const std::string& procfs) {
  const std::string path = procfs + "/sys/kernel/random/boot_id";
  std::ifstream in(path);
  if (!in) return errno_error("cannot read " + path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  std::string id = text.str();
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!id.empty() && is_space(id.back())) id.pop_back();
  size_t start = 0;
  while (start < id.size() && is_space(id[start])) ++start;
  id.erase(0, start);
  if (id.empty()) return Error{"empty boot id in " + path};
  return id;
}

}  // namespace cgio
