#include "web/gzip_stream.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

namespace cgio {

GzipStream::GzipStream(Sink sink, int level, size_t chunk)
    : sink_(std::move(sink)), z_(std::make_unique<z_stream_s>()), out_(chunk) {
  // windowBits 15 + 16: a gzip header and trailer rather than raw zlib.
  // memLevel 8 is zlib's default.
  ok_ = deflateInit2(z_.get(), level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

// deflateEnd also copes with a stream whose deflateInit2 failed (the
// z_stream is zero-initialised, so it finds no state and returns an error).
GzipStream::~GzipStream() { deflateEnd(z_.get()); }

bool GzipStream::pump(int flush) {
  for (;;) {
    z_->next_out = out_.data();
    z_->avail_out = static_cast<uInt>(out_.size());
    const int rc = deflate(z_.get(), flush);
    if (rc == Z_STREAM_ERROR) return ok_ = false;
    const size_t produced = out_.size() - z_->avail_out;
    if (produced > 0 && !sink_(std::string_view(reinterpret_cast<const char*>(out_.data()), produced))) {
      return ok_ = false;
    }
    if (flush == Z_FINISH ? rc == Z_STREAM_END : z_->avail_out != 0) return true;
  }
}

bool GzipStream::write(std::string_view text) {
  if (!ok_ || finished_) return false;
  // avail_in is 32-bit: feed very large pieces in parts.
  while (!text.empty()) {
    const size_t n = std::min<size_t>(text.size(), 1u << 30);
    z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z_->avail_in = static_cast<uInt>(n);
    if (!pump(Z_NO_FLUSH)) return false;
    text.remove_prefix(n);
  }
  return true;
}

bool GzipStream::finish() {
  if (!ok_ || finished_) return false;
  z_->next_in = nullptr;
  z_->avail_in = 0;
  const bool done = pump(Z_FINISH);
  finished_ = true;
  return done;
}

bool accepts_gzip(std::string_view header) {
  // Comma-separated codings, each optionally with ";q=value". An explicit
  // gzip entry decides; otherwise "*" does.
  const auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
  };
  double gzip_q = -1, star_q = -1;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t semi = item.find(';');
    std::string coding;
    for (char c : trim(item.substr(0, semi))) coding += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string_view params = semi == std::string_view::npos ? std::string_view() : trim(item.substr(semi + 1));
    double q = 1.0;
    if (params.size() > 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
      const std::string value(trim(params.substr(2)));
      char* end = nullptr;
      const double parsed = std::strtod(value.c_str(), &end);
      if (end != value.c_str()) q = parsed;
    }
    if (coding == "gzip" || coding == "x-gzip")
      gzip_q = std::max(gzip_q, q);
    else if (coding == "*")
      star_q = std::max(star_q, q);
  }
  return gzip_q >= 0 ? gzip_q > 0 : star_q > 0;
}

}  // namespace cgio
