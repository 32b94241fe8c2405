#include "exposition.h"

#include <charconv>
#include <cmath>

namespace cgio {

ExpositionWriter::ExpositionWriter(std::function<bool(std::string_view)> sink, size_t chunk)
    : sink_(std::move(sink)), chunk_(chunk) {
  buf_.reserve(chunk_ + 4096);
}

ExpositionWriter::~ExpositionWriter() = default;

void ExpositionWriter::flush() {
  if (buf_.empty()) return;
  if (ok_) ok_ = sink_(buf_);
  bytes_ += buf_.size();
  buf_.clear();
}

void ExpositionWriter::reserve(size_t n) {
  if (buf_.size() + n > chunk_) flush();
}

bool ExpositionWriter::finish() {
  flush();
  return ok_;
}

void ExpositionWriter::raw(std::string_view text) {
  if (!ok_) return;
  reserve(text.size());
  buf_.append(text);
}

void ExpositionWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  if (!ok_) return;
  reserve(name.size() * 2 + help.size() * 2 + type.size() + 32);
  buf_.append("# HELP ").append(name).push_back(' ');
  // HELP escapes backslash and newline.
  for (char c : help) {
    if (c == '\\') {
      buf_.append("\\\\");
    } else if (c == '\n') {
      buf_.append("\\n");
    } else {
      buf_.push_back(c);
    }
  }
  buf_.append("\n# TYPE ").append(name).push_back(' ');
  buf_.append(type).push_back('\n');
}

void ExpositionWriter::sample(std::string_view name, std::string_view labels, std::string_view extra,
                              uint64_t value) {
  if (!ok_) return;
  reserve(name.size() + labels.size() + extra.size() + 32);
  buf_.append(name);
  if (!labels.empty() || !extra.empty()) {
    buf_.push_back('{');
    buf_.append(labels);
    if (!labels.empty() && !extra.empty()) buf_.push_back(',');
    buf_.append(extra);
    buf_.push_back('}');
  }
  buf_.push_back(' ');
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, value);
  buf_.append(digits, r.ptr);
  buf_.push_back('\n');
}

void ExpositionWriter::sample(std::string_view name, std::string_view labels, std::string_view extra,
                              double value) {
  if (!ok_) return;
  reserve(name.size() + labels.size() + extra.size() + 48);
  buf_.append(name);
  if (!labels.empty() || !extra.empty()) {
    buf_.push_back('{');
    buf_.append(labels);
    if (!labels.empty() && !extra.empty()) buf_.push_back(',');
    buf_.append(extra);
    buf_.push_back('}');
  }
  buf_.push_back(' ');
  if (std::isnan(value)) {
    buf_.append("NaN");
  } else if (std::isinf(value)) {
    buf_.append(value > 0 ? "+Inf" : "-Inf");
  } else {
    char digits[32];
    const auto r = std::to_chars(digits, digits + sizeof digits, value);
    buf_.append(digits, r.ptr);
  }
  buf_.push_back('\n');
}

void ExpositionWriter::append_label(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append("=\"");
  for (char c : value) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '"': out.append("\\\""); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace cgio
