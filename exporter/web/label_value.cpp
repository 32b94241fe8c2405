#include "web/label_value.h"

#include <cstddef>
#include <cstdint>

namespace cgio {
namespace {

// The length of the valid UTF-8 sequence at `p` (of `n` bytes left), or 0.
size_t sequence_length(const unsigned char* p, size_t n) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  const auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return i < n && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;        // no overlongs
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;  // no surrogates
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;  // no overlongs
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;  // up to U+10FFFF
  return 0;
}

bool ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void append_hex_escape(std::string& out, unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append("\\x");
  out.push_back(kHex[byte >> 4]);
  out.push_back(kHex[byte & 0xf]);
}

// The escaped form of a value that is not valid UTF-8.
std::string escaped(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 16);
  const auto* p = reinterpret_cast<const unsigned char*>(value.data());
  size_t i = 0;
  while (i < value.size()) {
    const size_t len = sequence_length(p + i, value.size() - i);
    if (len == 0) {
      append_hex_escape(out, p[i]);
      ++i;
    } else if (p[i] == '\\') {
      append_hex_escape(out, '\\');
      ++i;
    } else {
      out.append(value.substr(i, len));
      i += len;
    }
  }
  return out;
}

void append_format_escaped(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        out.push_back(c);
    }
  }
}

}  // namespace

bool valid_utf8(std::string_view text) {
  if (ascii(text)) return true;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    const size_t len = sequence_length(p + i, text.size() - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string utf8_label_value(std::string_view value) {
  if (valid_utf8(value)) return std::string(value);
  return escaped(value);
}

void append_label_value(std::string& out, std::string_view value) {
  if (valid_utf8(value)) {
    append_format_escaped(out, value);
  } else {
    append_format_escaped(out, escaped(value));
  }
}

}  // namespace cgio
