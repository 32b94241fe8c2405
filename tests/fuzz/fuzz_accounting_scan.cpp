// The accounting file's restart scan (AccountingLog::open): which units of
// this boot, and of a spooled earlier boot, already have a record. Input:
// the file's content. Invariant: the scan finds exactly the units of the
// lines that parse_record_line reads as complete records naming the boot
// as written (the scan looks only at lines holding the boot id's JSON
// string), with nothing of lines longer than AccountingLog::kMaxLineBytes.
#include <set>
#include <string>

#include "accounting/accounting_log.h"
#include "fuzz_support.h"

namespace {
constexpr std::string_view kBoot = "b0";
constexpr std::string_view kSpooledBoot = "b1";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cgio::fuzz::as_text(data, size);
  const std::string path = cgio::fuzz::scratch_dir() + "/accounting.jsonl";
  cgio::fuzz::write_file(path, text);

  std::set<uint64_t> expected, expected_spooled;
  for (size_t start = 0; start <= text.size();) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.size() > cgio::AccountingLog::kMaxLineBytes) continue;
    const auto r = cgio::parse_record_line(line, kBoot);
    if (!r) continue;
    const bool names_a_boot =
        line.find("\"b0\"") != std::string_view::npos || line.find("\"b1\"") != std::string_view::npos;
    if (!names_a_boot) continue;
    if (r->boot_id.empty()) expected.insert(r->key);
    if (r->boot_id == kSpooledBoot) expected_spooled.insert(r->key);
  }

  auto log = cgio::AccountingLog::open(path, std::string(kBoot), {std::string(kSpooledBoot)});
  FUZZ_CHECK(static_cast<bool>(log));
  FUZZ_CHECK(log->records_known() == expected.size());
  for (const uint64_t key : expected) FUZZ_CHECK(log->written(key));
  for (const uint64_t key : expected_spooled) {
    FUZZ_CHECK(log->written(cgio::RecordLine{key, {}, {}, std::string(kSpooledBoot)}));
  }
  return 0;
}
