// Basic auth against bcrypt hashes made here with libxcrypt.
#include "web/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>

namespace cgio {
namespace {

std::string bcrypt(const std::string& password, unsigned long cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting), nullptr);
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  EXPECT_TRUE(hash && hash[0] == '$');
  return hash;
}

std::string basic(const std::string& credentials) {
  std::string out(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(credentials.data()), static_cast<int>(credentials.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

double seconds(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(BasicAuth, DisabledWithoutUsers) { EXPECT_FALSE(BasicAuth({}).enabled()); }

TEST(BasicAuth, RightPasswordOnly) {
  BasicAuth auth({{"alice", bcrypt("s3cret", 4)}, {"bob", bcrypt("hunter2", 4)}});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.allows(basic("alice:s3cret")));
  EXPECT_TRUE(auth.allows(basic("bob:hunter2")));
  EXPECT_FALSE(auth.allows(basic("alice:hunter2")));
  EXPECT_FALSE(auth.allows(basic("alice:s3cret ")));
  EXPECT_FALSE(auth.allows(basic("alice:")));
  EXPECT_FALSE(auth.allows(basic("carol:s3cret")));
  // After a cached success, a wrong password is still wrong.
  EXPECT_FALSE(auth.allows(basic("alice:s3creT")));
}

TEST(BasicAuth, PasswordMayHoldColons) {
  BasicAuth auth({{"alice", bcrypt("a:b:c", 4)}});
  EXPECT_TRUE(auth.allows(basic("alice:a:b:c")));
  EXPECT_FALSE(auth.allows(basic("alice:a")));
}

TEST(BasicAuth, MalformedHeadersAndOtherSchemes) {
  BasicAuth auth({{"alice", bcrypt("s3cret", 4)}});
  const std::string good = basic("alice:s3cret");
  EXPECT_TRUE(auth.allows("basic " + good.substr(6))) << "the scheme is case-insensitive";
  EXPECT_FALSE(auth.allows(""));
  EXPECT_FALSE(auth.allows("Basic"));
  EXPECT_FALSE(auth.allows("Basic "));
  EXPECT_FALSE(auth.allows("Bearer " + good.substr(6)));
  EXPECT_FALSE(auth.allows("Basic " + good.substr(6, good.size() - 7)));  // length not a multiple of 4
  EXPECT_FALSE(auth.allows("Basic !!!!" + good.substr(10)));              // not base64
  EXPECT_FALSE(auth.allows(basic("alices3cret")));                        // no colon
  EXPECT_FALSE(auth.allows("Basic  " + good.substr(6)));
}

TEST(BasicAuth, ParsesTheCredentials) {
  std::string user, password;
  ASSERT_TRUE(parse_basic_authorization(basic("u:p"), user, password));
  EXPECT_EQ(user, "u");
  EXPECT_EQ(password, "p");
  ASSERT_TRUE(parse_basic_authorization(basic(":"), user, password));
  EXPECT_EQ(user, "");
  EXPECT_EQ(password, "");
}

// At cost 10 a bcrypt takes tens of milliseconds; a cached success takes
// microseconds. Unknown users cost a bcrypt all the same.
TEST(BasicAuth, SuccessIsCachedAndUnknownUsersCostABcrypt) {
  BasicAuth auth({{"alice", bcrypt("s3cret", 10)}});
  bool first = false, second = false;
  const double cold = seconds([&] { first = auth.allows(basic("alice:s3cret")); });
  const double warm = seconds([&] { second = auth.allows(basic("alice:s3cret")); });
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
  EXPECT_LT(warm * 20, cold) << "cold " << cold << " s, warm " << warm << " s";
  const double wrong = seconds([&] { EXPECT_FALSE(auth.allows(basic("alice:nope"))); });
  const double unknown = seconds([&] { EXPECT_FALSE(auth.allows(basic("mallory:nope"))); });
  EXPECT_GT(wrong, cold / 3) << "a wrong password was answered from the cache";
  EXPECT_GT(unknown, wrong / 3) << "unknown user " << unknown << " s, known user " << wrong << " s";
}

TEST(BasicAuth, CacheIsBounded) {
  // One more user than the cache holds, each checked once: the first falls out.
  BasicAuth big([] {
    std::map<std::string, std::string> m;
    for (size_t i = 0; i <= BasicAuth::kCacheEntries; i++) m["u" + std::to_string(i)] = bcrypt("p", 4);
    return m;
  }());
  for (size_t i = 0; i <= BasicAuth::kCacheEntries; i++) ASSERT_TRUE(big.allows(basic("u" + std::to_string(i) + ":p")));
  // u0 fell out: its check is a bcrypt again (cost 4 is still far slower than a lookup).
  const double evicted = seconds([&] { EXPECT_TRUE(big.allows(basic("u0:p"))); });
  const double kept = seconds([&] { EXPECT_TRUE(big.allows(basic("u0:p"))); });
  EXPECT_LT(kept * 5, evicted) << "evicted " << evicted << " s, kept " << kept << " s";
}

}  // namespace
}  // namespace cgio
