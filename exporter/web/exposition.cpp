#include "web/exposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "web/label_value.h"

namespace cgio {

ExpositionWriter::ExpositionWriter(std::function<bool(std::string_view)> sink, size_t chunk)
    : sink_(std::move(sink)), buf_(chunk), end_(buf_.data()), chunk_(chunk) {}

ExpositionWriter::~ExpositionWriter() = default;

void ExpositionWriter::flush() {
  const size_t n = static_cast<size_t>(end_ - buf_.data());
  if (n == 0) return;
  if (ok_) ok_ = sink_(std::string_view(buf_.data(), n));
  bytes_ += n;
  end_ = buf_.data();
}

char* ExpositionWriter::reserve(size_t n) {
  if (static_cast<size_t>(end_ - buf_.data()) + n > chunk_) flush();
  if (n > buf_.size()) {
    // One line longer than a chunk (a huge label value): grow for it.
    buf_.resize(n);
    end_ = buf_.data();
  }
  return end_;
}

bool ExpositionWriter::finish() {
  flush();
  return ok_;
}

void ExpositionWriter::raw(std::string_view text) {
  if (!ok_) return;
  // Possibly larger than a chunk: pass it on in chunk-sized pieces.
  while (!text.empty()) {
    const size_t n = std::min(text.size(), chunk_);
    reserve(n);
    put(text.substr(0, n));
    text.remove_prefix(n);
  }
}

void ExpositionWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  if (!ok_) return;
  std::string line;
  line.reserve(name.size() * 2 + help.size() + type.size() + 24);
  line.append("# HELP ").append(name).push_back(' ');
  // HELP escapes backslash and newline.
  for (char c : help) {
    if (c == '\\') {
      line.append("\\\\");
    } else if (c == '\n') {
      line.append("\\n");
    } else {
      line.push_back(c);
    }
  }
  line.append("\n# TYPE ").append(name).push_back(' ');
  line.append(type).push_back('\n');
  raw(line);
}

namespace {

// `name{labels,extra} ` into `out` (which has room), returning the end.
char* head(char* out, std::string_view name, std::string_view labels, std::string_view extra) {
  std::memcpy(out, name.data(), name.size());
  out += name.size();
  if (!labels.empty() || !extra.empty()) {
    *out++ = '{';
    std::memcpy(out, labels.data(), labels.size());
    out += labels.size();
    if (!labels.empty() && !extra.empty()) *out++ = ',';
    std::memcpy(out, extra.data(), extra.size());
    out += extra.size();
    *out++ = '}';
  }
  *out++ = ' ';
  return out;
}

}  // namespace

void ExpositionWriter::sample(std::string_view name, std::string_view labels, std::string_view extra, uint64_t value) {
  if (!ok_) return;
  char* out = head(reserve(name.size() + labels.size() + extra.size() + 32), name, labels, extra);
  out = std::to_chars(out, out + 24, value).ptr;
  *out++ = '\n';
  end_ = out;
}

void ExpositionWriter::sample(std::string_view name, std::string_view labels, std::string_view extra, double value) {
  if (!ok_) return;
  char* out = head(reserve(name.size() + labels.size() + extra.size() + 48), name, labels, extra);
  if (std::isnan(value)) {
    std::memcpy(out, "NaN", 3);
    out += 3;
  } else if (std::isinf(value)) {
    std::memcpy(out, value > 0 ? "+Inf" : "-Inf", 4);
    out += 4;
  } else {
    out = std::to_chars(out, out + 40, value).ptr;
  }
  *out++ = '\n';
  end_ = out;
}

void ExpositionWriter::append_label(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append("=\"");
  append_label_value(out, value);
  out.push_back('"');
}

}  // namespace cgio
