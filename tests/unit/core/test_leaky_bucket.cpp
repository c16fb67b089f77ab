// LeakyBucket: tells a flood from chatting, whatever the batch sizes.
#include "core/leaky_bucket.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace epollchat {
namespace {

constexpr std::chrono::nanoseconds kMillisecond = std::chrono::milliseconds(1);
constexpr std::chrono::nanoseconds kSecond = std::chrono::seconds(1);
constexpr std::uint64_t kDrain = 64 * 1024;  // bytes per second
constexpr CoarseTime kStart{1'000 * kSecond};

TEST(LeakyBucket, StartsEmptyAndHoldsOneBatch) {
  LeakyBucket<kDrain> meter;
  EXPECT_EQ(meter.level(), 0U);
  meter.add(4096, kStart);
  EXPECT_EQ(meter.level(), 4096U);
}

TEST(LeakyBucket, DrainsAtItsRateBetweenBatches) {
  LeakyBucket<kDrain> meter;
  meter.add(kDrain, kStart);
  meter.add(0, kStart + kSecond / 2);
  EXPECT_EQ(meter.level(), kDrain / 2);
  meter.add(100, kStart + kSecond);
  EXPECT_EQ(meter.level(), 100U);
}

TEST(LeakyBucket, NeverDrainsBelowEmpty) {
  LeakyBucket<kDrain> meter;
  meter.add(10, kStart);
  meter.add(5, kStart + 10 * kSecond);
  EXPECT_EQ(meter.level(), 5U);
}

TEST(LeakyBucket, ManySmallBatchesFasterThanTheDrainAddUp) {
  // 2 KiB every millisecond (2 MiB/s): each batch is small, the rate is a flood.
  LeakyBucket<kDrain> meter;
  for (int i = 0; i < 100; ++i) meter.add(2048, kStart + i * kMillisecond);
  EXPECT_GT(meter.level(), 64U * 1024);
}

TEST(LeakyBucket, ChatterUnderTheDrainRateStaysLow) {
  // A 1 KiB line ten times a second (10 KiB/s), for a minute.
  LeakyBucket<kDrain> meter;
  for (int i = 0; i < 600; ++i) meter.add(1024, kStart + i * (kSecond / 10));
  EXPECT_EQ(meter.level(), 1024U);
}

TEST(LeakyBucket, LongSilenceAfterAHugeLevelEmptiesIt) {
  LeakyBucket<kDrain> meter;
  meter.add(std::uint64_t{1} << 40, kStart);
  meter.add(0, kStart + std::int64_t{365} * 24 * 3600 * kSecond);
  EXPECT_EQ(meter.level(), 0U);
}

TEST(LeakyBucket, ClockStandingStillDrainsNothing) {
  // The coarse clock can report the same tick for consecutive batches.
  LeakyBucket<kDrain> meter;
  meter.add(1000, kStart);
  meter.add(1000, kStart);
  EXPECT_EQ(meter.level(), 2000U);
}

}  // namespace
}  // namespace epollchat
