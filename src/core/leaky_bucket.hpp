// LeakyBucket: how many bytes something produced lately.
//
// Each batch pours its bytes in; the bucket drains at a fixed rate. The level therefore tells
// a flood from chatting whatever the batches look like: a sender that outpaces the drain rate
// fills it even in small batches (a fast writer whose every line is read as soon as it
// arrives), while a chatter well under the rate keeps it near empty.
// Pure arithmetic on the times the caller passes (coarse_now()); owns no resource.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/clock.hpp"

namespace epollchat {

// The drain rate is a template argument, not a member: every client has a bucket, and
// their rate is the same.
template <std::uint64_t DrainBytesPerSecond>
class LeakyBucket {
 public:
  static constexpr std::uint64_t kDrainBytesPerSecond = DrainBytesPerSecond;

  // Adds a batch of `bytes` read at `now`, after draining what the time since the last
  // batch took away.
  void add(std::size_t bytes, CoarseTime now) noexcept {
    drain(now);
    level_ += bytes;
  }

  // The level as of the last add(): the bytes sent lately beyond what the drain rate allows.
  [[nodiscard]] std::uint64_t level() const noexcept { return level_; }

 private:
  void drain(CoarseTime now) noexcept {
    const auto elapsed = now - last_;
    last_ = now;
    if (elapsed <= elapsed.zero() || level_ == 0) return;
    // In floating point: elapsed time times rate overflows 64 bits after a long silence.
    const double drained =
        std::chrono::duration<double>(elapsed).count() * static_cast<double>(DrainBytesPerSecond);
    level_ =
        drained >= static_cast<double>(level_) ? 0 : level_ - static_cast<std::uint64_t>(drained);
  }

  std::uint64_t level_ = 0;
  CoarseTime last_;
};

}  // namespace epollchat
