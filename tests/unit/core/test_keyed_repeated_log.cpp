// KeyedRepeatedLog: one record per key per interval, keys independent of one another, and a
// bounded memory of keys under a flood from more of them than it may remember.
#include "core/keyed_repeated_log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace epollchat {
namespace {

using std::chrono::seconds;

// The log itself is at err: the tests count what write() says went out, nothing is printed.
class KeyedRepeatedLogTest : public ::testing::Test {
 protected:
  const Log log_{LogLevel::err};
  const CoarseTime start_ = coarse_now();
};

TEST_F(KeyedRepeatedLogTest, OncePerIntervalForEachKey) {
  KeyedRepeatedLog log(log_, LogLevel::notice, 16);
  EXPECT_TRUE(log.write("10.0.0.1", "refused 10.0.0.1", start_));
  EXPECT_FALSE(log.write("10.0.0.1", "refused 10.0.0.1", start_ + seconds(1)));
  EXPECT_FALSE(log.write("10.0.0.1", "refused 10.0.0.1", start_ + seconds(59)));
  // Another key is not held back by the first.
  EXPECT_TRUE(log.write("10.0.0.2", "refused 10.0.0.2", start_ + seconds(30)));
  // A minute after its record, the first key is written again; the second still waits.
  EXPECT_TRUE(log.write("10.0.0.1", "refused 10.0.0.1", start_ + seconds(60)));
  EXPECT_FALSE(log.write("10.0.0.2", "refused 10.0.0.2", start_ + seconds(60)));
  EXPECT_TRUE(log.write("10.0.0.2", "refused 10.0.0.2", start_ + seconds(90)));
  EXPECT_FALSE(log.write("10.0.0.1", "refused 10.0.0.1", start_ + seconds(119)));
}

TEST_F(KeyedRepeatedLogTest, RemembersNoMoreKeysThanItsCapacity) {
  constexpr std::size_t kCapacity = 8;
  KeyedRepeatedLog log(log_, LogLevel::notice, kCapacity);
  for (std::size_t i = 0; i < kCapacity; ++i) {
    EXPECT_TRUE(log.write("key " + std::to_string(i), "record", start_));
  }
  // Beyond the capacity, new keys share one record per interval.
  std::size_t written = 0;
  for (std::size_t i = kCapacity; i < 1000; ++i) {
    if (log.write("key " + std::to_string(i), "record", start_ + seconds(1))) ++written;
    EXPECT_LE(log.keys(), kCapacity);
  }
  EXPECT_EQ(written, 1U);
  // The remembered keys are still held back.
  EXPECT_FALSE(log.write("key 0", "record", start_ + seconds(2)));
  // Once their interval is over, the keys are forgotten and new ones are written again.
  EXPECT_TRUE(log.write("key 500", "record", start_ + seconds(60)));
  EXPECT_EQ(log.keys(), 1U);
  EXPECT_TRUE(log.write("key 0", "record", start_ + seconds(61)));
}

}  // namespace
}  // namespace epollchat
