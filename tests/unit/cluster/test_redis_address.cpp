// RedisAddress::parse: every form the `redis` setting accepts, and the ones it refuses
// (ports out of range, bare IPv6, host names that would need DNS, empty text).
#include "cluster/redis_address.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace epollchat::cluster {
namespace {

// `text` is accepted, with `host` and `port`.
::testing::AssertionResult parses_to(std::string_view text, std::string_view host,
                                     std::uint16_t port) {
  const auto address = RedisAddress::parse(text);
  if (!address) return ::testing::AssertionFailure() << "\"" << text << "\" is refused";
  if (address->host != host || address->port != port) {
    return ::testing::AssertionFailure()
           << "\"" << text << "\" has host \"" << address->host << "\" and port " << address->port;
  }
  return ::testing::AssertionSuccess();
}

// Every one of `texts` is refused; a failure names the text that was not.
void expect_refused(std::initializer_list<std::string_view> texts) {
  for (const std::string_view text : texts) {
    EXPECT_FALSE(RedisAddress::parse(text)) << text;
  }
}

TEST(RedisAddress, HostAndPort) {
  const auto address = RedisAddress::parse("127.0.0.1:6380");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 6380);
  EXPECT_EQ(address->unix_path, "");
  EXPECT_EQ(address->to_string(), "127.0.0.1:6380");

  const auto lowest = RedisAddress::parse("10.1.2.3:1");
  ASSERT_TRUE(lowest);
  EXPECT_EQ(lowest->port, 1);
  const auto highest = RedisAddress::parse("10.1.2.3:65535");
  ASSERT_TRUE(highest);
  EXPECT_EQ(highest->port, 65535);
}

TEST(RedisAddress, PortDefaultsTo6379) {
  EXPECT_EQ(RedisAddress::kDefaultPort, 6379);
  const auto address = RedisAddress::parse("127.0.0.1");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 6379);
  EXPECT_EQ(address->to_string(), "127.0.0.1:6379");
}

TEST(RedisAddress, LocalhostIsTheIpv4Loopback) {
  EXPECT_TRUE(parses_to("localhost", "127.0.0.1", 6379));
  EXPECT_TRUE(parses_to("localhost:7000", "127.0.0.1", 7000));
}

TEST(RedisAddress, BracketedIpv6) {
  const auto address = RedisAddress::parse("[::1]:6390");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 6390);
  EXPECT_EQ(address->to_string(), "[::1]:6390");

  EXPECT_TRUE(parses_to("[::1]", "::1", 6379));

  const auto longer = RedisAddress::parse("[fe80::1:2]:1234");
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->host, "fe80::1:2");
  EXPECT_EQ(longer->to_string(), "[fe80::1:2]:1234");
}

TEST(RedisAddress, UnixSocketPath) {
  const auto address = RedisAddress::parse("/run/redis/redis-server.sock");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->unix_path, "/run/redis/redis-server.sock");
  EXPECT_EQ(address->host, "");
  EXPECT_EQ(address->to_string(), "/run/redis/redis-server.sock");
  // A colon in a path is part of the path.
  const auto with_colon = RedisAddress::parse("/tmp/a:b");
  ASSERT_TRUE(with_colon);
  EXPECT_EQ(with_colon->unix_path, "/tmp/a:b");
  // sun_path holds 107 bytes and the NUL.
  EXPECT_TRUE(RedisAddress::parse("/" + std::string(106, 'x')));
  EXPECT_FALSE(RedisAddress::parse("/" + std::string(107, 'x')));
}

TEST(RedisAddress, RefusesPortsOutOfRangeOrMalformed) {
  expect_refused({
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "127.0.0.1:99999999999",
      "127.0.0.1:",
      "127.0.0.1:-1",
      "127.0.0.1:+80",
      "127.0.0.1: 80",
      "127.0.0.1:80 ",
      "127.0.0.1:80x",
      "127.0.0.1:0x50",
      "[::1]:0",
      "[::1]:65536",
      "[::1]:",
      "localhost:0",
  });
}

TEST(RedisAddress, RefusesBareIpv6AndBrokenBrackets) {
  expect_refused({
      "::1",
      "::1:6379",
      "fe80::1",
      "[::1",
      "::1]",
      "[::1]6379",
      "[::1]x:6379",
      "[]:6379",
      "[]",
      "[127.0.0.1]:6379",  // brackets are for IPv6 literals only
      "[localhost]:6379",
  });
}

TEST(RedisAddress, RefusesHostNamesAndEmptyText) {
  expect_refused({
      "",
      ":6379",
      "redis",
      "redis:6379",
      "example.com:6379",
      "localhost.localdomain",
      "127.0.0.1.1",
      "256.0.0.1",
      "run/redis.sock",  // a relative path
      " 127.0.0.1",
  });
}

}  // namespace
}  // namespace epollchat::cluster
