// What the fuzz targets share: a check that fails loudly (libFuzzer and
// the replay runner both report an abort as a finding, with the input),
// splitting the input into parts, and a scratch directory for targets whose
// parser reads files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace cgio::fuzz {

// An invariant of the parser under test; never compiled out.
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The parts of `text` between NUL bytes (a trailing NUL ends the last part).
inline std::vector<std::string_view> split_nul(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The first byte of the input as a small choice, and the rest.
struct Choice {
  unsigned value = 0;
  std::string_view rest;
};
inline Choice take_choice(std::string_view text, unsigned choices) {
  if (text.empty()) return {0, text};
  return {static_cast<unsigned char>(text[0]) % choices, text.substr(1)};
}

// A fresh directory for this process (under $TMPDIR, else /tmp), removed
// at exit. Targets that write files put them here.
const std::string& scratch_dir();
// Writes `content` to `path` (replacing it); aborts when it cannot.
void write_file(const std::string& path, std::string_view content);
// Removes everything below `dir`, keeping `dir`.
void empty_dir(const std::string& dir);

}  // namespace cgio::fuzz
