// Label values that are always valid in a scrape. Prometheus refuses a
// whole scrape when one label value is not valid UTF-8, and any process
// allowed to create a cgroup (delegated subtrees: rootless containers,
// systemd user sessions, Slurm) can name it with arbitrary bytes.
//
// A value that is valid UTF-8 is kept as it is. A value that is not is
// written with each byte of every invalid sequence as the four characters
// `\xHH` (lowercase hex) and, in such a value only, each backslash as
// `\x5c`, so every backslash in it starts an escape and the original bytes
// can be recovered by decoding `\xHH`. The accounting file keeps the
// original bytes (JSON escapes them itself).
#pragma once

#include <string>
#include <string_view>

namespace cgio {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF, no truncated sequence.
bool valid_utf8(std::string_view text);

// `value` as above: itself when valid UTF-8, else the escaped form.
std::string utf8_label_value(std::string_view value);

// Appends `value` made valid as above, then escaped as the text format
// requires (backslash, double quote, newline), without the quotes.
void append_label_value(std::string& out, std::string_view value);

}  // namespace cgio
