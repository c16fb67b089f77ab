#include "bench/latency_histogram.hpp"

#include <cmath>

namespace epollchat::bench {

std::uint64_t LatencyHistogram::upper_bound_of(std::size_t bucket) noexcept {
  if (bucket < kLinear) return bucket;
  const std::size_t rest = bucket - kLinear;
  const std::size_t shift = rest / (std::size_t{1} << kSubBits) + 1;
  const std::uint64_t top = (std::uint64_t{1} << kSubBits) + rest % (std::size_t{1} << kSubBits);
  return ((top + 1) << shift) - 1;
}

std::uint64_t LatencyHistogram::percentile(double fraction) const noexcept {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const std::uint64_t bound = upper_bound_of(b);
      return bound < max_ ? bound : max_;
    }
  }
  return max_;
}

}  // namespace epollchat::bench
