// Prometheus durations (parse_duration, e.g. --cgroup.retain-ended).
// Invariants: an accepted duration is not negative and reads back the same
// from its canonical spelling ("1y2w3d4h5m6s7ms"); two accepted durations
// written one after the other read as their sum unless that overflows.
#include <chrono>
#include <string>

#include "config/options.h"
#include "fuzz_support.h"

namespace {

using std::chrono::milliseconds;

std::string render(milliseconds d) {
  if (d.count() == 0) return "0";
  static constexpr struct {
    const char* unit;
    uint64_t ms;
  } kUnits[] = {{"y", 365 * 86'400'000ull},
                {"w", 7 * 86'400'000ull},
                {"d", 86'400'000},
                {"h", 3'600'000},
                {"m", 60'000},
                {"s", 1000},
                {"ms", 1}};
  auto left = static_cast<uint64_t>(d.count());
  std::string out;
  for (const auto& u : kUnits) {
    if (left >= u.ms) {
      out += std::to_string(left / u.ms) + u.unit;
      left %= u.ms;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cgio::fuzz::as_text(data, size);
  // The input is one duration, or two separated by a NUL byte.
  const size_t nul = text.find('\0');
  const std::string_view a = text.substr(0, nul);
  const auto da = cgio::parse_duration(a);
  if (da) {
    FUZZ_CHECK(da->count() >= 0);
    const auto back = cgio::parse_duration(render(*da));
    FUZZ_CHECK(back && *back == *da);
  } else {
    FUZZ_CHECK(!da.error().message.empty());
  }
  if (nul == std::string_view::npos) return 0;
  const std::string_view b = text.substr(nul + 1);
  const auto db = cgio::parse_duration(b);
  // "0" is a whole duration of its own, not a part ("5m0" has no unit).
  if (!da || !db || a == "0" || b == "0") return 0;
  const auto sum = cgio::parse_duration(std::string(a) + std::string(b));
  if (da->count() > std::chrono::milliseconds::max().count() - db->count()) {
    FUZZ_CHECK(!sum);
  } else {
    FUZZ_CHECK(sum && *sum == *da + *db);
  }
  return 0;
}
