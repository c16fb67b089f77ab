// Tests of the RedisServer harness itself, so a failing cluster test points at the daemon and
// not at the tools: it serves PING on its address, stops, comes back on the same address,
// stops answering while SIGSTOPped, and serves a unix socket.
#include <gtest/gtest.h>

#include <filesystem>

#include "cluster/redis_server.hpp"

namespace epollchat::test {
namespace {

constexpr std::chrono::milliseconds kPingTimeout{std::chrono::seconds(5)};
// Long enough for a running redis to answer many times over, short enough to keep the test
// quick: the paused server must stay silent for this long.
constexpr std::chrono::milliseconds kSilenceTimeout{std::chrono::milliseconds(500)};

TEST(RedisServer, AnswersPingOnALoopbackPort) {
  RedisServer redis;
  EXPECT_NE(redis.port(), 0);
  EXPECT_EQ(redis.address(), "127.0.0.1:" + std::to_string(redis.port()));
  EXPECT_TRUE(redis.is_running());
  EXPECT_TRUE(redis.ping(kPingTimeout));
}

TEST(RedisServer, StopsAndRestartsOnTheSamePort) {
  RedisServer redis;
  const auto port = redis.port();
  redis.stop();
  EXPECT_FALSE(redis.is_running());
  EXPECT_FALSE(redis.ping(kPingTimeout));  // refused at once: nothing listens
  redis.start();
  EXPECT_EQ(redis.port(), port);
  EXPECT_TRUE(redis.ping(kPingTimeout));
  EXPECT_NE(redis.log().find("Received SIGTERM"), std::string::npos) << redis.log();
}

TEST(RedisServer, PausedServerIsSilentUntilContinued) {
  RedisServer redis;
  redis.pause();
  EXPECT_TRUE(redis.is_paused());
  EXPECT_FALSE(redis.ping(kSilenceTimeout));
  redis.resume();
  EXPECT_TRUE(redis.ping(kPingTimeout));
}

TEST(RedisServer, StopWorksWhilePaused) {
  RedisServer redis;
  redis.pause();
  redis.stop();
  EXPECT_FALSE(redis.is_running());
}

TEST(RedisServer, UnstartedServerHasAnAddressButNoListener) {
  RedisServer redis(RedisOptions{.start = false});
  EXPECT_NE(redis.port(), 0);
  EXPECT_FALSE(redis.is_running());
  EXPECT_FALSE(redis.ping(kPingTimeout));
  redis.start();
  EXPECT_TRUE(redis.ping(kPingTimeout));
}

TEST(RedisServer, ServesAUnixSocket) {
  RedisServer redis(RedisOptions{.transport = RedisTransport::unix_socket});
  EXPECT_EQ(redis.port(), 0);
  EXPECT_TRUE(redis.socket_path().is_absolute());
  EXPECT_EQ(redis.address(), redis.socket_path().string());
  EXPECT_TRUE(std::filesystem::exists(redis.socket_path()));
  EXPECT_TRUE(redis.ping(kPingTimeout));
  redis.stop();
  EXPECT_FALSE(redis.ping(kPingTimeout));
  redis.start();
  EXPECT_TRUE(redis.ping(kPingTimeout));
}

}  // namespace
}  // namespace epollchat::test
