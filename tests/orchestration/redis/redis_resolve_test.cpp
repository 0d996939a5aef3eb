// Host names are resolved within the connection timeout (hiredis's own getaddrinfo() has no
// bound): a name that resolves connects (each address it has is tried in turn); one that
// does not is a clear error.
#include "orchestration/redis/redis_resolve.h"
#include "support/redis_test_support.h"

namespace mlops::orchestration::testing {
namespace {

using mlops::testing::RedisServer;

TEST(RedisResolve, NameConnectsThroughWhicheverAddressListens) {
  RedisServer server;
  MLOPS_START_REDIS(server);
  auto orch = Orchestration::from_uri("redis://localhost:" + std::to_string(server.port()));
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  auto ok = admin->validate_connection(2s);
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST(RedisResolve, UnknownNameIsAClearErrorWithinTheTimeout) {
  auto orch = Orchestration::from_uri("redis://no-such-host.invalid:6379?timeout_ms=1000");
  ASSERT_TRUE(orch);
  auto admin = Admin::create(*orch);
  ASSERT_TRUE(admin);
  Result<void> result;
  EXPECT_LT(time_of([&] { result = admin->validate_connection(1s); }), 2s);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("resolving no-such-host.invalid"), std::string::npos)
      << result.error().message;
}

TEST(RedisResolve, NumericAddressesAreTakenAsTheyAreAndADeadlinePassedGivesUpAtOnce) {
  const auto now = Clock::now();
  auto v4 = detail::redis::numeric_hosts("127.0.0.1", now);
  ASSERT_TRUE(v4);
  EXPECT_EQ(*v4, std::vector<std::string>{"127.0.0.1"});
  auto v6 = detail::redis::numeric_hosts("::1", now);
  ASSERT_TRUE(v6);
  EXPECT_EQ(*v6, std::vector<std::string>{"::1"});
  // A name with its deadline already passed: no wait for the resolver at all.
  Result<std::vector<std::string>> late = std::vector<std::string>{};
  EXPECT_LT(time_of([&] { late = detail::redis::numeric_hosts("localhost", Clock::now() - 1s); }),
            500ms);
  if (!late) {
    EXPECT_NE(late.error().message.find("no answer in time"), std::string::npos);
  }
}

}  // namespace
}  // namespace mlops::orchestration::testing
