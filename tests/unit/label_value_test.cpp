// Label values are valid UTF-8 in every scrape, whatever bytes a cgroup
// name holds, and the original bytes can be recovered from them.
#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>
#include <random>
#include <string>

#include "exporter_process.h"
#include "web/exposition.h"
#include "web/label_value.h"

namespace cgio {
namespace {

// The inverse of the escaped form: `\xHH` back to its byte.
std::string decode(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 3 < value.size() && value[i + 1] == 'x') {
      out.push_back(static_cast<char>(std::stoi(value.substr(i + 2, 2), nullptr, 16)));
      i += 3;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

TEST(LabelValue, ValidUtf8IsKeptAsItIs) {
  for (const std::string v :
       {"", "/system.slice/machine-qemu\\x2d1\\x2dvm.scope", "/job_42/step_0", "Gr\xc3\xbc\xc3\x9f", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"}) {
    EXPECT_TRUE(valid_utf8(v)) << v;
    EXPECT_EQ(utf8_label_value(v), v);
  }
}

TEST(LabelValue, EachClassOfInvalidUtf8IsEscapedByteByByte) {
  const std::pair<std::string, std::string> cases[] = {
      {"a\xff"
       "b",
       "a\\xffb"},
      {"\x80", "\\x80"},                             // a lone continuation byte
      {"\xc3\x28", "\\xc3("},                        // a lead byte without its continuation
      {"\xc0\xaf", "\\xc0\\xaf"},                    // overlong '/'
      {"\xe0\x80\xaf", "\\xe0\\x80\\xaf"},           // overlong, three bytes
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},           // a surrogate (U+D800)
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},  // above U+10FFFF
      {"\xf0\x9f\x98", "\\xf0\\x9f\\x98"},           // truncated
      {"ok \xc3\xbc \xfe", "ok \xc3\xbc \\xfe"},     // valid sequences in an invalid value stay
      {"back\\slash\xff", "back\\x5cslash\\xff"},    // in an escaped value, every backslash is an escape
  };
  for (const auto& [in, want] : cases) {
    EXPECT_FALSE(valid_utf8(in)) << want;
    const std::string got = utf8_label_value(in);
    EXPECT_EQ(got, want);
    EXPECT_TRUE(valid_utf8(got)) << want;
    EXPECT_EQ(decode(got), in) << want;
  }
}

TEST(LabelValue, RandomBytesRoundTrip) {
  std::mt19937 rng(1234);
  for (int n = 0; n < 20000; ++n) {
    std::string in(rng() % 24, '\0');
    for (char& c : in) c = static_cast<char>(rng() % 4 == 0 ? '\\' : rng() % 256);
    const std::string out = utf8_label_value(in);
    ASSERT_TRUE(valid_utf8(out));
    if (!valid_utf8(in)) {
      ASSERT_EQ(decode(out), in);
    } else {
      ASSERT_EQ(out, in);
    }
  }
}

TEST(LabelValue, TextFormatEscapesOnTop) {
  std::string out;
  ExpositionWriter::append_label(out, "cgroup", "/a\"b\\c\nd\xff");
  EXPECT_EQ(out, "cgroup=\"/a\\\"b\\\\x5cc\\nd\\\\xff\"");
  out.clear();
  ExpositionWriter::append_label(out, "cgroup", "/a\"b\\c\nd");
  EXPECT_EQ(out, "cgroup=\"/a\\\"b\\\\c\\nd\"") << "valid UTF-8: only the format's escapes";
}

// promtool (the reference parser) accepts an exposition with hostile
// values, and refuses the same values unescaped: the check can fail.
TEST(LabelValue, PromtoolAcceptsHostileValues) {
  const std::string promtool = "/var/cache/cgio/tools/promtool";
  ASSERT_EQ(access(promtool.c_str(), X_OK), 0) << promtool << " missing: run packaging/install-deps.sh --test";
  const std::string hostile[] = {
      "/q\"uote",        "/back\\slash", "/new\nline", "/{}=,",
      "/\xff\xfe",       "/\xc3\x28",    "/\x80",      std::string("/") + std::string(255, 'n'),
      "/mixed\\\xff\"\n"};
  const auto check = [&](bool escape) {
    std::string text;
    ExpositionWriter out(
        [&text](std::string_view piece) {
          text.append(piece);
          return true;
        },
        4096);
    out.family("cgio_test_total", "Test.", "counter");
    uint64_t v = 0;
    for (const std::string& h : hostile) {
      std::string labels;
      if (escape) {
        ExpositionWriter::append_label(labels, "cgroup", h);
      } else {
        labels = "cgroup=\"" + h + "\"";
      }
      out.sample("cgio_test_total", labels, "", ++v);
    }
    out.finish();
    const std::string file = testing::TempDir() + "/hostile.prom";
    std::ofstream(file) << text;
    std::string output;
    const int status = test::run_command({"/bin/sh", "-c", promtool + " check metrics < " + file}, &output);
    return std::make_pair(status, output);
  };
  const auto [ok_status, ok_output] = check(true);
  EXPECT_EQ(ok_status, 0) << ok_output;
  const auto [raw_status, raw_output] = check(false);
  EXPECT_NE(raw_status, 0) << "promtool accepted invalid values: " << raw_output;
}

}  // namespace
}  // namespace cgio
