// Streaming gzip (RFC 1952) on zlib: text in, compressed pieces out to a
// sink, so a compressed /metrics response is produced as it is written,
// like the plain one.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

struct z_stream_s;

namespace cgio {

class GzipStream {
 public:
  using Sink = std::function<bool(std::string_view)>;

  // `level`: zlib's 1 (fastest) to 9 (smallest). Compressed output reaches
  // `sink` in pieces of up to `chunk` bytes.
  GzipStream(Sink sink, int level, size_t chunk = 64 * 1024);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Compresses `text`; false once the sink refused a piece or zlib failed.
  bool write(std::string_view text);
  // Ends the stream (trailer with CRC and length) and hands out the rest.
  bool finish();

 private:
  bool pump(int flush);

  Sink sink_;
  std::unique_ptr<z_stream_s> z_;
  std::vector<unsigned char> out_;
  bool ok_ = false;
  bool finished_ = false;
};

// Whether an Accept-Encoding header value admits gzip (a "gzip" or "*"
// coding whose q is not 0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace cgio
