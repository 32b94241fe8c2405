// The command line: argv is the input split on NUL bytes (argv[0] added).
// Invariants: a usage error is one printable line with exit status 2,
// ending "(see --help)" unless it names an unusable web config file; an accepted command line yields options within the
// flags' documented ranges, and the same options when every "--flag value"
// pair is written "--flag=value" instead.
#include <string>
#include <variant>
#include <vector>

#include "config/options.h"
#include "fuzz_support.h"

namespace {

using cgio::fuzz::as_text;

void check_usage_error(const cgio::CliExit& exit) {
  FUZZ_CHECK(exit.to_stderr);
  const std::string& t = exit.text;
  // A flag error points at --help; a web config that cannot be used names
  // the file instead (its problem is in the file, not on the command line).
  FUZZ_CHECK(t.starts_with("cgio_exporter: "));
  FUZZ_CHECK(t.ends_with(" (see --help)\n") || t.starts_with("cgio_exporter: web config "));
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    FUZZ_CHECK(c >= 0x20 && c != 0x7f);
  }
}

void check_ranges(const cgio::Options& o) {
  FUZZ_CHECK(o.gzip_level >= 0 && o.gzip_level <= 9);
  FUZZ_CHECK(o.map_entries >= 1 && o.map_entries <= cgio::kMaxMapEntries);
  FUZZ_CHECK(o.collector_vfs || o.collector_net);
  FUZZ_CHECK(o.telemetry_path.size() > 1 && o.telemetry_path.front() == '/');
  FUZZ_CHECK(o.mountpoints.size() <= cgio::kMaxMountpoints);
  for (const std::string& mp : o.mountpoints) FUZZ_CHECK(!mp.empty() && mp.front() == '/');
  FUZZ_CHECK(o.retain_ended >= std::chrono::seconds(0) && o.retain_ended <= cgio::kMaxRetainEnded);
  FUZZ_CHECK(o.accounting_max_pending >= 1);
  FUZZ_CHECK(o.accounting_file.empty() || o.accounting_spool_file != o.accounting_file);
}

std::variant<cgio::Options, cgio::CliExit> parse(const std::vector<std::string>& args) {
  std::vector<const char*> argv{"cgio_exporter"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return cgio::parse_options(static_cast<int>(argv.size() - 1), argv.data(), /*ipv6_supported=*/true);
}

// The same command line with every flag's value after '=' (the parser's
// other spelling); "--" is kept.
std::vector<std::string> joined(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool takes_value = [&] {
      if (!a.starts_with("--") || a.find('=') != std::string::npos) return false;
      for (const cgio::Flag& f : cgio::flag_table()) {
        if (a.substr(2) == f.name) return !f.value_name.empty();
      }
      return false;
    }();
    if (takes_value && i + 1 < args.size()) {
      out.push_back(a + "=" + args[++i]);
    } else {
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = as_text(data, size);
  // --web.listen-address resolves host names (getaddrinfo: DNS); the
  // listen_address target covers that parser offline.
  if (text.find("listen") != std::string_view::npos) return -1;
  std::vector<std::string> args;
  for (std::string_view part : cgio::fuzz::split_nul(text)) args.emplace_back(part);
  if (args.size() > 64) return -1;

  const auto result = parse(args);
  if (const auto* exit = std::get_if<cgio::CliExit>(&result)) {
    FUZZ_CHECK(exit->code == 0 || exit->code == 2);
    if (exit->code == 2) check_usage_error(*exit);
    return 0;
  }
  const auto& opts = std::get<cgio::Options>(result);
  check_ranges(opts);
  const auto again = parse(joined(args));
  const auto* opts2 = std::get_if<cgio::Options>(&again);
  FUZZ_CHECK(opts2 != nullptr);
  FUZZ_CHECK(*opts2 == opts);
  return 0;
}
