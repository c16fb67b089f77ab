// Timer: one-shot and periodic expiry through the loop, disarm and re-arm.
#include "core/timer.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "unit_helpers.hpp"

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
  EXPECT_TRUE(timer.is_armed()) << "a zero it_value would have disarmed the timerfd";
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

}  // namespace
}  // namespace epollchat
