// The clock connections use for rate limits and incomplete-line ages.
//
// CLOCK_MONOTONIC_COARSE: read through the vDSO in a few nanoseconds, at tick resolution
// (1-4 ms), which is ample for limits measured in lines per second and seconds of waiting.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

namespace epollchat {

// Added to every reading: tests and the fuzzer move time on without waiting for it. Always
// 0 in the daemon.
inline std::int64_t clock_skew_ns = 0;

inline std::int64_t coarse_now_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec + clock_skew_ns;
}

// For tests and the fuzzer only: time jumps forward by `duration`.
inline void skew_clock(std::chrono::nanoseconds duration) noexcept {
  clock_skew_ns += duration.count();
}

}  // namespace epollchat
