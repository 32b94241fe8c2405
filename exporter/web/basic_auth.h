// HTTP basic auth against the web configuration's basic_auth_users (bcrypt
// hashes), as exporter-toolkit does it: a correct password is cached so a
// scrape every 15 s does not pay a bcrypt each time, and an unknown user
// costs one bcrypt like a known one, so timing does not tell which exist.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace cgio {

class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users);  // user -> bcrypt hash

  bool enabled() const { return !users_.empty(); }
  // `authorization`: the request's Authorization header value ("" if
  // absent). True when it is "Basic base64(user:password)" for a configured
  // user whose bcrypt hash matches. Thread-safe.
  bool allows(std::string_view authorization);

  static constexpr size_t kCacheEntries = 100;

 private:
  using Digest = std::array<uint8_t, 32>;
  bool cached(const Digest& key);
  void remember(const Digest& key);

  const std::map<std::string, std::string> users_;
  std::string decoy_;  // a bcrypt setting unknown users are checked against
  std::mutex mutex_;
  std::set<Digest> cache_;    // SHA-256 of user, password and hash, for correct passwords
  std::deque<Digest> order_;  // oldest first, to bound the cache
};

// The user and password of a "Basic ..." Authorization value; false when it
// is not one (other scheme, bad base64, no colon).
bool parse_basic_authorization(std::string_view authorization, std::string& user, std::string& password);

}  // namespace cgio
