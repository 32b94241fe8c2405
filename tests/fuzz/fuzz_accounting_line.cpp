// The accounting file's lines, both ways. Input starting with '{': one
// line, read by parse_record_line (the spool's and the restart scan's
// reader); its result must agree with the whole line parsed as a JSON
// document. Anything else: the bytes of an AccountingRecord (8 bytes of
// cgroup id, a flags byte, then NUL-separated strings), written by
// format_accounting_line; the line must be one valid JSON object whose
// strings decode to the record's (where they are UTF-8), and read back by
// parse_record_line with the record's key and boot.
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "accounting/accounting_log.h"
#include "contracts/cgroup_keys.h"
#include "fuzz_support.h"

namespace {

using nlohmann::json;
constexpr std::string_view kBoot = "5a1f0e22-7c1e-4a57-9a7c-0d2b6a4b9e11";

bool utf8(const std::string& s) {
  try {
    (void)json(s).dump();  // strict: throws on invalid UTF-8
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

void check_line(std::string_view line) {
  const auto r = cgio::parse_record_line(line, kBoot);
  if (!r) return;
  FUZZ_CHECK(r->line.ends_with('\n'));
  const json doc = json::parse(r->line);  // throws (a finding) if not JSON
  FUZZ_CHECK(doc.is_object());
  const json& id = doc.at("cgroup_id");
  FUZZ_CHECK(id.is_number_unsigned());
  const auto v1 = doc.find("cgroup_v1");
  const bool is_v1 = v1 != doc.end() && v1->is_boolean() && v1->get<bool>();
  FUZZ_CHECK(r->key == (is_v1 ? id.get<uint64_t>() | CGIO_V1_KEY_BIT : id.get<uint64_t>()));
  const std::string boot = doc.at("boot_id").get<std::string>();
  FUZZ_CHECK(r->boot_id == (boot == kBoot ? std::string() : boot));
}

void check_record(std::string_view bytes) {
  if (bytes.size() < 9) return;
  cgio::AccountingRecord r;
  std::memcpy(&r.cgroup_id, bytes.data(), 8);
  const auto flags = static_cast<unsigned char>(bytes[8]);
  r.cgroup_v1 = flags & 1;
  const auto parts = cgio::fuzz::split_nul(bytes.substr(9));
  const auto part = [&](size_t i) { return i < parts.size() ? std::string(parts[i]) : std::string(); };
  r.workload = part(0);
  r.workload_id = part(1);
  r.step = part(2);
  r.cgroup = part(3);
  if (parts.size() > 5) r.info.emplace_back(part(4), part(5));
  r.first_seen = std::chrono::system_clock::time_point(std::chrono::milliseconds(r.cgroup_id % (1ull << 40)));
  r.ended = r.first_seen + std::chrono::seconds(flags);
  if (flags & 2) r.ended_after = r.first_seen;
  r.counters = {{"read_bytes", r.cgroup_id}, {part(6).empty() ? "write_bytes" : part(6), flags}};

  const std::string line = cgio::format_accounting_line(r, kBoot);
  FUZZ_CHECK(line.ends_with("}\n") && line.find('\n') == line.size() - 1);
  const json doc = json::parse(line);
  FUZZ_CHECK(doc.is_object());
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"workload", r.workload},
                                   {"workload_id", r.workload_id},
                                   {"cgroup", r.cgroup}}) {
    if (utf8(value)) FUZZ_CHECK(doc.at(key).get<std::string>() == value);
  }
  FUZZ_CHECK(doc.at("cgroup_id").get<uint64_t>() == r.cgroup_id);
  FUZZ_CHECK(doc.contains("step") == !r.step.empty());
  FUZZ_CHECK(doc.contains("cgroup_v1") == r.cgroup_v1);

  const uint64_t key = r.cgroup_v1 ? r.cgroup_id | CGIO_V1_KEY_BIT : r.cgroup_id;
  const auto same_boot = cgio::parse_record_line(line, kBoot);
  FUZZ_CHECK(same_boot && same_boot->key == key && same_boot->boot_id.empty() && same_boot->line == line);
  const auto other_boot = cgio::parse_record_line(line, "another boot");
  FUZZ_CHECK(other_boot && other_boot->key == key && other_boot->boot_id == kBoot);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cgio::fuzz::as_text(data, size);
  if (!text.empty() && text.front() == '{') {
    check_line(text);
  } else {
    check_record(text);
  }
  return 0;
}
