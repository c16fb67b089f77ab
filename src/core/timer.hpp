// Timer: one-shot or periodic work at a time on the loop's clock (status reports, the
// watchdog, flow-control checks, the shutdown deadline).
//
// Owns: its callback. The loop keeps armed timers in order of expiry and sets its wait's
// timeout from the earliest, as redis's ae and libuv do: a timer costs no descriptor (a
// process that ran out of them still keeps time) and no syscall to arm or disarm.
// Lifetime: the loop outlives it; destruction disarms it. The callback runs inside a turn,
// after the turn's events, with CLOCK_MONOTONIC (std::chrono::steady_clock) as its clock.
#pragma once

#include <chrono>
#include <functional>

#include "core/event_loop.hpp"

namespace epollchat {

class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> on_expiry);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires once after `delay`, then every `interval` if it is non-zero (a periodic timer that
  // falls behind fires once and goes on from then, as a timerfd would). Replaces any
  // earlier setting.
  void arm(std::chrono::microseconds delay,
           std::chrono::microseconds interval = std::chrono::microseconds::zero());
  void disarm() noexcept;
  [[nodiscard]] bool is_armed() const noexcept { return armed_; }

 private:
  friend class EventLoop;

  EventLoop& loop_;
  std::function<void()> on_expiry_;
  std::chrono::microseconds interval_{0};
  EventLoop::TimerQueue::iterator position_;  // valid while armed
  bool armed_ = false;
};

}  // namespace epollchat
