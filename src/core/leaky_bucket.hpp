// LeakyBucket: how many bytes something produced lately.
//
// Each batch pours its bytes in; the bucket drains at a fixed rate. The level therefore tells
// a flood from chatting whatever the batches look like: a sender that outpaces the drain rate
// fills it even in small batches (a fast writer whose every line is read as soon as it
// arrives), while a chatter well under the rate keeps it near empty.
// Pure arithmetic on timestamps the caller passes (coarse_now_ns()); owns no resource.
#pragma once

#include <cstddef>
#include <cstdint>

namespace epollchat {

// The drain rate is a template argument, not a member: every client has a bucket, and
// their rate is the same.
template <std::uint64_t DrainBytesPerSecond>
class LeakyBucket {
 public:
  static constexpr std::uint64_t kDrainBytesPerSecond = DrainBytesPerSecond;

  // Adds a batch of `bytes` read at `now_ns`, after draining what the time since the last
  // batch took away.
  void add(std::size_t bytes, std::int64_t now_ns) noexcept {
    drain(now_ns);
    level_ += bytes;
  }

  // The level as of the last add(): the bytes sent lately beyond what the drain rate allows.
  [[nodiscard]] std::uint64_t level() const noexcept { return level_; }

 private:
  void drain(std::int64_t now_ns) noexcept {
    const std::int64_t elapsed_ns = now_ns - last_ns_;
    last_ns_ = now_ns;
    if (elapsed_ns <= 0 || level_ == 0) return;
    // In floating point: elapsed time times rate overflows 64 bits after a long silence.
    const double drained =
        static_cast<double>(elapsed_ns) * 1e-9 * static_cast<double>(DrainBytesPerSecond);
    level_ =
        drained >= static_cast<double>(level_) ? 0 : level_ - static_cast<std::uint64_t>(drained);
  }

  std::uint64_t level_ = 0;
  std::int64_t last_ns_ = 0;
};

}  // namespace epollchat
