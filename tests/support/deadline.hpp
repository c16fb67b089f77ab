// Deadline: a point on the monotonic clock that a wait must not pass.
//
// Owns: nothing but a time point. Every wait in the test support library is bounded by one,
// so a daemon that never answers fails the test instead of hanging it.
// Lifetime: a plain value; copy freely.
#pragma once

#include <algorithm>
#include <chrono>

namespace epollchat::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

class Deadline {
 public:
  explicit Deadline(milliseconds budget) : at_(Clock::now() + budget) {}

  [[nodiscard]] bool has_expired() const { return Clock::now() >= at_; }
  [[nodiscard]] Clock::time_point time_point() const { return at_; }

  // What is left, never negative.
  [[nodiscard]] milliseconds remaining() const {
    const auto left = std::chrono::ceil<milliseconds>(at_ - Clock::now());
    return std::max(left, milliseconds{0});
  }

  // The timeout argument for poll(2): what is left, clamped to int.
  [[nodiscard]] int poll_timeout() const {
    const auto left = remaining().count();
    return static_cast<int>(std::min<long long>(left, 1'000'000'000));
  }

 private:
  Clock::time_point at_;
};

// Milliseconds elapsed since `start`, as a double for printing measured figures.
inline double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace epollchat::test
