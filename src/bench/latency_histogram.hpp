// LatencyHistogram: a log-linear histogram of nanosecond latencies.
//
// Values below 64 ns get a bucket each; above, every power of two is split into 32 linear
// buckets, so a reported percentile is within about 3 % of the true value whatever the
// scale, in a fixed 15 KiB however many samples are recorded (a benchmark run records
// hundreds of millions). Percentiles report a bucket's upper bound, never an optimistic
// figure; the maximum is kept exactly.
// Owns: its counters. Lifetime: plain value.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace epollchat::bench {

class LatencyHistogram {
 public:
  void record(std::uint64_t ns) noexcept {
    ++counts_[bucket_of(ns)];
    ++count_;
    if (ns > max_) max_ = ns;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }

  // The smallest bucket bound with at least `fraction` of all samples at or below it
  // (0 when empty); never above max().
  [[nodiscard]] std::uint64_t percentile(double fraction) const noexcept;

 private:
  static constexpr unsigned kSubBits = 5;
  static constexpr std::size_t kLinear = std::size_t{2} << kSubBits;  // 64 exact buckets
  static constexpr std::size_t kBuckets =
      kLinear + (64 - kSubBits - 1) * (std::size_t{1} << kSubBits);

  static std::size_t bucket_of(std::uint64_t ns) noexcept {
    if (ns < kLinear) return static_cast<std::size_t>(ns);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(ns));
    const unsigned shift = msb - kSubBits;
    const std::uint64_t top = ns >> shift;  // in [32, 63]
    return kLinear + (shift - 1) * (std::size_t{1} << kSubBits) +
           static_cast<std::size_t>(top - (std::uint64_t{1} << kSubBits));
  }
  static std::uint64_t upper_bound_of(std::size_t bucket) noexcept;

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace epollchat::bench
