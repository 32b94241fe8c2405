// TLS server contexts for the web configuration's tls_server_config, built
// with OpenSSL 3 under Boost.Asio, and rebuilt when the certificate, key or
// client CA files change (exporter-toolkit rereads them on every connection;
// here a stat of each is enough to notice a renewed certificate).
#pragma once

#include <sys/types.h>

#include <boost/asio/ssl/context.hpp>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/result.h"
#include "web/web_config.h"

namespace cgio {

// Builds a context for `config`: certificate chain and key (which must
// match), protocol versions, TLS 1.2 cipher suites, curves, server
// preference, client certificate policy. Errors are one line naming the
// field and the file.
Result<std::shared_ptr<boost::asio::ssl::context>> build_tls_context(const TlsServerConfig& config);
// Whether build_tls_context would succeed (parse_web_config's file check).
Result<void> check_tls_files(const TlsServerConfig& config);

class TlsContexts {
 public:
  // Loads now; errors are clear one-liners.
  static Result<std::unique_ptr<TlsContexts>> create(const TlsServerConfig& config);

  // The context for a new connection. First re-stats cert, key and CA files
  // (inode, size, mtime) and rebuilds when one changed; a failed rebuild is
  // logged once (util/log.h) and the previous context stays. Thread-safe.
  std::shared_ptr<boost::asio::ssl::context> current();

  // Identity of a file's contents as far as stat tells (all zero when stat fails).
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const Stamp& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };

 private:
  TlsContexts(TlsServerConfig config, std::vector<Stamp> stamps, std::shared_ptr<boost::asio::ssl::context> context);
  std::vector<Stamp> stat_files() const;

  const TlsServerConfig config_;
  std::mutex mutex_;
  std::vector<Stamp> stamps_;  // of the files as last tried, good or bad
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace cgio
