// Timer: one-shot and periodic expiry through the loop, disarm and re-arm.
#include "core/timer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "unit/unit_helpers.hpp"

namespace epollchat {
namespace {

using namespace std::chrono_literals;
using test::run_until;

// Runs the loop until a later, independent timer fires: whatever `earlier` timers were
// due before it have had their chance to fire by then (both are CLOCK_MONOTONIC).
bool run_past(EventLoop& loop, std::chrono::microseconds delay) {
  bool fired = false;
  Timer marker(loop, [&] { fired = true; });
  marker.arm(delay);
  return run_until(loop, [&] { return fired; });
}

TEST(Timer, OneShotFiresOnceAndIsNoLongerArmed) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  EXPECT_FALSE(timer.is_armed());
  timer.arm(1ms);
  EXPECT_TRUE(timer.is_armed());
  ASSERT_TRUE(run_until(loop, [&] { return fired == 1; }));
  EXPECT_FALSE(timer.is_armed());
  ASSERT_TRUE(run_past(loop, 20ms));
  EXPECT_EQ(fired, 1);
}

TEST(Timer, ZeroDelayStillFires) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  timer.arm(0us);
  EXPECT_TRUE(timer.is_armed()) << "a zero delay is due now, not disarmed";
  ASSERT_TRUE(run_until(loop, [&] { return fired == 1; }));
}

TEST(Timer, PeriodicKeepsFiringUntilDisarmed) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  timer.arm(1ms, 1ms);
  ASSERT_TRUE(run_until(loop, [&] { return fired >= 3; }));
  EXPECT_TRUE(timer.is_armed());
  timer.disarm();
  EXPECT_FALSE(timer.is_armed());
  const int at_disarm = fired;
  ASSERT_TRUE(run_past(loop, 20ms));
  EXPECT_EQ(fired, at_disarm);
}

TEST(Timer, DisarmBeforeExpiryPreventsTheCallback) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  timer.arm(5ms);
  timer.disarm();
  ASSERT_TRUE(run_past(loop, 30ms));
  EXPECT_EQ(fired, 0);
}

TEST(Timer, DisarmAfterExpiryButBeforeTheLoopSawItPreventsTheCallback) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  bool marker_fired = false;
  Timer marker(loop, [&] {
    marker_fired = true;
    timer.disarm();  // `timer` expired too, maybe reported in this same batch
  });
  timer.arm(10ms);
  marker.arm(1ms);
  ASSERT_TRUE(run_until(loop, [&] { return marker_fired; }));
  const int after_marker = fired;
  ASSERT_TRUE(run_past(loop, 30ms));
  EXPECT_EQ(fired, after_marker) << "no expiry is reported after disarm()";
}

TEST(Timer, ArmReplacesTheEarlierSetting) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  timer.arm(1h);
  timer.arm(1ms);
  ASSERT_TRUE(run_until(loop, [&] { return fired == 1; }));
  timer.arm(1ms, 1ms);
  timer.arm(1ms);  // one-shot again
  ASSERT_TRUE(run_until(loop, [&] { return fired == 2; }));
  EXPECT_FALSE(timer.is_armed());
}

TEST(Timer, CallbackMayReArmItsOwnTimer) {
  EventLoop loop;
  int fired = 0;
  Timer* self = nullptr;
  Timer timer(loop, [&] {
    if (++fired < 3) self->arm(1ms);
  });
  self = &timer;
  timer.arm(1ms);
  ASSERT_TRUE(run_until(loop, [&] { return fired == 3; }));
  ASSERT_TRUE(run_past(loop, 20ms));
  EXPECT_EQ(fired, 3);
}

// Timers live in the loop's queue: a process out of descriptors still keeps time.
TEST(Timer, CostsNoDescriptor) {
  EventLoop loop;
  const auto count_fds = [] {
    std::size_t fds = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
      ++fds;
    return fds;
  };
  const std::size_t before = count_fds();
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 100; ++i) {
    timers.push_back(std::make_unique<Timer>(loop, [] {}));
    timers.back()->arm(1h);
  }
  EXPECT_EQ(count_fds(), before);
}

TEST(Timer, TheLoopWaitsNoLongerThanTheFirstTimer) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  timer.arm(20ms);
  const auto start = std::chrono::steady_clock::now();
  while (fired == 0 && std::chrono::steady_clock::now() - start < 5s) loop.run_once(-1);
  EXPECT_EQ(fired, 1) << "run_once(-1) would block forever without the timer's timeout";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST(Timer, ATimerReArmingItselfAtOnceWaitsForTheNextTurn) {
  EventLoop loop;
  int fired = 0;
  Timer* self = nullptr;
  Timer timer(loop, [&] {
    ++fired;
    self->arm(0us);
  });
  self = &timer;
  timer.arm(0us);
  loop.run_once(0);
  EXPECT_EQ(fired, 1) << "one turn fires it once, however often it re-arms";
  loop.run_once(0);
  EXPECT_EQ(fired, 2);
}

TEST(Timer, ATimerDestroyedByAnotherTimersCallbackDoesNotFire) {
  EventLoop loop;
  int fired = 0;
  auto victim = std::make_unique<Timer>(loop, [&] { ++fired; });
  Timer killer(loop, [&] { victim.reset(); });
  killer.arm(0us);
  victim->arm(1us);
  ASSERT_TRUE(run_past(loop, 10ms));
  EXPECT_EQ(victim, nullptr);
  EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace epollchat
