// CoarseClock: the std::chrono clock that connections and the chat service use for rate
// limits, ages and timeouts.
//
// CLOCK_MONOTONIC_COARSE: read through the vDSO in a few nanoseconds, at tick resolution
// (1-4 ms), which is ample for limits measured in lines per second and seconds of waiting.
#pragma once

#include <time.h>

#include <chrono>

namespace epollchat {

class CoarseClock {
 public:
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<CoarseClock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return time_point(std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) +
                      skew_);
  }

  // For tests and the fuzzer only: time jumps forward by `by`, without waiting for it.
  static void skew(duration by) noexcept { skew_ += by; }

 private:
  // Always zero in the daemon.
  static inline duration skew_{0};
};

// A reading of CoarseClock; a default-constructed one (the clock's epoch) means "never".
using CoarseTime = CoarseClock::time_point;

inline CoarseTime coarse_now() noexcept { return CoarseClock::now(); }

// For tests and the fuzzer only: see CoarseClock::skew.
inline void skew_clock(std::chrono::nanoseconds by) noexcept { CoarseClock::skew(by); }

}  // namespace epollchat
