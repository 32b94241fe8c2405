#include "cgroups/tracker_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "util/log.h"

namespace cgio {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;
constexpr int kFormat = 1;
// A journal is replaced by a snapshot once it is this much, or twice its
// last snapshot, larger than that snapshot.
constexpr size_t kMinGrowth = 4u << 20;

// Cgroup paths are any bytes; JSON strings must be UTF-8. Bytes outside
// printable ASCII (and % " \) are written %XX, so every key comes back exact.
std::string enc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '%' || c == '"' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string dec(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

int64_t ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
Clock::time_point at_ns(int64_t v) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(v)));
}

// Numbers as the journal writes them: non-negative integers for ids and
// counters, integers for times. nlohmann's get<> would convert a fraction
// or an exponent with a cast (undefined behaviour beyond the type's range)
// and a negative number by wrapping; such a line is not ours.
uint64_t u64_of(const json& j) {
  if (!j.is_number_unsigned()) throw std::invalid_argument("not a non-negative integer");
  return j.get<uint64_t>();
}
int64_t i64_of(const json& j) {
  const bool fits = j.is_number_unsigned() ? j.get<uint64_t>() <= uint64_t(INT64_MAX) : j.is_number_integer();
  if (!fits) throw std::invalid_argument("not a 64-bit integer");
  return j.get<int64_t>();
}
std::vector<uint64_t> u64s_of(const json& j) {
  if (!j.is_array()) throw std::invalid_argument("not an array");
  std::vector<uint64_t> out;
  out.reserve(j.size());
  for (const json& v : j) out.push_back(u64_of(v));
  return out;
}

json key_json(const SeriesKey& k) {
  return json::array({enc(k.workload), enc(k.workload_id), enc(k.cgroup), enc(k.step)});
}
SeriesKey key_of(const json& j) {
  return {dec(j.at(0).get<std::string>()), dec(j.at(1).get<std::string>()), dec(j.at(2).get<std::string>()),
          dec(j.at(3).get<std::string>())};
}

json totals_json(std::span<const std::vector<uint64_t>> t) {
  json a = json::array();
  for (const auto& d : t) a.push_back(d);
  return a;
}
void totals_of(const json& j, std::vector<uint64_t> (&out)[kCounterDomains]) {
  for (size_t d = 0; d < kCounterDomains && d < j.size(); ++d) out[d] = u64s_of(j.at(d));
}

json info_json(const InfoLabels& info) {
  json a = json::array();
  for (const auto& [k, v] : info) a.push_back(json::array({enc(k), enc(v)}));
  return a;
}
InfoLabels info_of(const json& j) {
  InfoLabels out;
  for (const json& p : j) out.emplace_back(dec(p.at(0).get<std::string>()), dec(p.at(1).get<std::string>()));
  return out;
}

void add_into(std::vector<uint64_t>& into, const std::vector<uint64_t>& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i) into[i] += from[i];
}

json series_json(const SeriesState& s) {
  json j{{"s", key_json(s.key)},
         {"ended", totals_json(s.ended)},
         {"start", totals_json(s.instance_start)},
         {"open", s.open},
         {"ids", s.unit_ids},
         {"fs", ns(s.first_seen)},
         {"info", info_json(s.info)}};
  if (s.ended_at) j["at"] = ns(*s.ended_at);
  return j;
}

json ended_json(const EndedUnit& u) {
  json j{{"e", key_json(u.key)}, {"id", u.cgroup_id},          {"fs", ns(u.first_seen)},
         {"at", ns(u.ended)},    {"t", totals_json(u.totals)}, {"info", info_json(u.info)}};
  if (u.ended_after) j["after"] = ns(*u.ended_after);
  return j;
}

std::string line_of(const json& j) { return j.dump() + "\n"; }

}  // namespace

RestoredState replay_journal(std::string_view text) {
  RestoredState out;
  std::map<SeriesKey, SeriesState> series;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {  // cut by a crash mid-write
      ++out.unreadable;
      break;
    }
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    // Every field of a line is read before anything is applied: a line
    // that does not read whole (cut, or not ours) changes no state and
    // counts once, as unreadable.
    try {
      const json j = json::parse(line);
      if (j.contains("f")) {
        const uint64_t id = u64_of(j.at("f"));
        const SeriesKey key = key_of(j.at("k"));
        std::vector<uint64_t> finals[kCounterDomains];
        totals_of(j.at("t"), finals);
        SeriesState& s = series[key];
        for (size_t d = 0; d < kCounterDomains; ++d) add_into(s.ended[d], finals[d]);
        out.folded_ids.insert(id);
      } else if (j.contains("u")) {
        const uint64_t id = u64_of(j.at("u"));
        const SeriesKey key = key_of(j.at("k"));
        const bool first = j.at("first").get<bool>();
        const Clock::time_point at = first ? at_ns(i64_of(j.at("at"))) : Clock::time_point{};
        SeriesState& s = series[key];
        if (first) {
          for (size_t d = 0; d < kCounterDomains; ++d) s.instance_start[d] = s.ended[d];
          s.open = true;
          s.unit_ids.clear();
          s.first_seen = at;
          s.ended_at.reset();
        }
        s.unit_ids.push_back(id);
      } else if (j.contains("e")) {
        EndedUnit u;
        u.key = key_of(j.at("e"));
        u.cgroup_id = u64_of(j.at("id"));
        u.first_seen = at_ns(i64_of(j.at("fs")));
        u.ended = at_ns(i64_of(j.at("at")));
        if (j.contains("after")) u.ended_after = at_ns(i64_of(j.at("after")));
        totals_of(j.at("t"), u.totals);
        u.info = info_of(j.at("info"));
        SeriesState& s = series[u.key];
        s.open = false;
        s.unit_ids.clear();
        s.ended_at = u.ended;
        out.ended_units.push_back(std::move(u));
      } else if (j.contains("n")) {
        const SeriesKey key = key_of(j.at("n"));
        const Clock::time_point at = at_ns(i64_of(j.at("at")));
        SeriesState& s = series[key];
        if (!s.open) s.ended_at = at;
      } else if (j.contains("x")) {
        series.erase(key_of(j.at("x")));
      } else if (j.contains("i")) {
        const SeriesKey key = key_of(j.at("i"));
        InfoLabels info = info_of(j.at("info"));
        series[key].info = std::move(info);
      } else if (j.contains("s")) {
        SeriesState s;
        s.key = key_of(j.at("s"));
        totals_of(j.at("ended"), s.ended);
        totals_of(j.at("start"), s.instance_start);
        s.open = j.at("open").get<bool>();
        s.unit_ids = u64s_of(j.at("ids"));
        s.first_seen = at_ns(i64_of(j.at("fs")));
        if (j.contains("at")) s.ended_at = at_ns(i64_of(j.at("at")));
        s.info = info_of(j.at("info"));
        series[s.key] = std::move(s);
      } else {
        ++out.unreadable;
        continue;
      }
      ++out.lines;
    } catch (const std::exception&) {
      ++out.unreadable;
    }
  }
  for (auto& [key, s] : series) {
    s.key = key;
    out.series.push_back(std::move(s));
  }
  return out;
}

Result<StateJournal::Opened> StateJournal::open(const std::string& path, std::string boot_id, uint32_t maps_id) {
  Opened o;
  o.journal.reset(new StateJournal());
  StateJournal& jr = *o.journal;
  jr.path_ = path;
  jr.boot_id_ = std::move(boot_id);
  jr.maps_id_ = maps_id;
  const size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_error("cannot create " + dir, errno);
  }
  // The previous state, if it is this boot's and these maps'.
  if (Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC)); in.valid()) {
    std::string text;
    char buf[1 << 16];
    ssize_t n;
    while ((n = ::read(in.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    if (n < 0) return errno_error("cannot read " + path, errno);
    struct stat st {};
    fstat(in.get(), &st);
    const size_t nl = text.find('\n');
    json head;
    try {
      head = json::parse(text.substr(0, nl));
    } catch (const std::exception&) {
      head = nullptr;
    }
    if (!head.is_object() || head.value("cgio_state", 0) != kFormat) {
      o.why = "not a cgio state file of format " + std::to_string(kFormat);
    } else if (head.value("boot_id", "") != jr.boot_id_) {
      o.why = "written in another boot";
    } else if (head.value("maps_id", 0u) != maps_id) {
      o.why = "written for other pinned maps (they were removed or made anew)";
    } else {
      o.state = replay_journal(std::string_view(text).substr(nl == std::string::npos ? text.size() : nl + 1));
      o.state->saved_at = Clock::time_point(std::chrono::duration_cast<Clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    }
  }
  // A fresh journal: the state just read becomes its first snapshot when
  // the tracker has taken it (the caller snapshots right after restoring).
  const std::string tmp = path + ".new";
  jr.fd_.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!jr.fd_.valid()) return errno_error("cannot create " + tmp, errno);
  if (!o.state) {
    jr.append(jr.header());
    if (jr.broken_) return Error{"cannot write " + tmp};
    if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_error("cannot replace " + path, errno);
  } else {
    ::unlink(tmp.c_str());  // snapshot() writes the file from the restored state
    jr.fd_.reset();
    jr.broken_ = true;
  }
  return o;
}

std::string StateJournal::header() const {
  return line_of(json{{"cgio_state", kFormat}, {"boot_id", boot_id_}, {"maps_id", maps_id_}});
}

void StateJournal::append(const std::string& line) {
  std::lock_guard lock(mutex_);
  append_locked(line);
}

void StateJournal::append_locked(const std::string& line) {
  if (broken_ || !fd_.valid()) return;
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_.get(), line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++errors_;
      // A journal missing a change would restore wrong totals: none is
      // better. The next snapshot writes the whole state again.
      log::error(
          "cannot write the state journal; it is removed until the next snapshot (a restart before then "
          "starts ended totals from zero)",
          {{"file", path_}, {"err", std::strerror(n < 0 ? errno : ENOSPC)}});
      ::unlink(path_.c_str());
      fd_.reset();
      broken_ = true;
      return;
    }
    done += static_cast<size_t>(n);
  }
  bytes_ += line.size();
}

void StateJournal::folded(uint64_t id, const SeriesKey& key, std::span<const std::vector<uint64_t>> finals) {
  bool any = false;
  for (const auto& d : finals) {
    for (uint64_t v : d) any = any || v != 0;
  }
  if (!any) return;  // nothing to remember
  append(line_of(json{{"f", id}, {"k", key_json(key)}, {"t", totals_json(finals)}}));
}

void StateJournal::unit_added(const SeriesKey& key, uint64_t id, bool first, Clock::time_point first_seen) {
  append(line_of(json{{"u", id}, {"k", key_json(key)}, {"first", first}, {"at", ns(first_seen)}}));
}

void StateJournal::unit_ended(const EndedUnit& u) { append(line_of(ended_json(u))); }

void StateJournal::series_ended(const SeriesKey& key, Clock::time_point at) {
  append(line_of(json{{"n", key_json(key)}, {"at", ns(at)}}));
}

void StateJournal::expired(const SeriesKey& key) { append(line_of(json{{"x", key_json(key)}})); }

void StateJournal::info_found(const SeriesKey& key, const InfoLabels& info) {
  append(line_of(json{{"i", key_json(key)}, {"info", info_json(info)}}));
}

bool StateJournal::wants_snapshot() const {
  std::lock_guard lock(mutex_);
  return broken_ || bytes_ > snapshot_bytes_ + std::max(kMinGrowth, snapshot_bytes_);
}

Result<void> StateJournal::snapshot(const std::vector<SeriesState>& series, bool keep_ended) {
  std::lock_guard lock(mutex_);
  std::string text = header();
  for (const SeriesState& s : series) text += line_of(series_json(s));
  if (keep_ended && !broken_) {
    // The units ended since the last snapshot, from the journal itself.
    if (Fd in(::open(path_.c_str(), O_RDONLY | O_CLOEXEC)); in.valid()) {
      std::string old;
      char buf[1 << 16];
      ssize_t n;
      while ((n = ::read(in.get(), buf, sizeof buf)) > 0) old.append(buf, static_cast<size_t>(n));
      size_t pos = 0;
      while (pos < old.size()) {
        const size_t nl = old.find('\n', pos);
        if (nl == std::string::npos) break;
        if (old.compare(pos, 5, "{\"e\":") == 0) text.append(old, pos, nl + 1 - pos);
        pos = nl + 1;
      }
    }
  }
  const std::string tmp = path_ + ".new";
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!out.valid()) return errno_error("cannot create " + tmp, errno);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(out.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::unlink(tmp.c_str());
      ++errors_;
      return errno_error("cannot write " + tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    ++errors_;
    return errno_error("cannot replace " + path_, err);
  }
  fd_ = std::move(out);
  broken_ = false;
  bytes_ = snapshot_bytes_ = text.size();
  return {};
}

}  // namespace cgio
