// SeededRandom: the stress test's source of decisions, a small pseudo-random generator
// (xoshiro256**, seeded through SplitMix64) whose sequence depends on the seed alone.
//
// Why not <random>: the standard distributions are implementation-defined, so the same seed
// could take other decisions with another standard library; a run must be replayable from
// the seed it printed. Each simulated client draws from a stream of its own (stream()), so
// its decisions do not depend on how the clients' turns interleave in time.
// Owns: 32 bytes of state. Lifetime: a plain value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>

namespace epollchat::test {

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) {
    for (std::uint64_t& word : state_) word = split_mix(seed);
  }

  // An independent stream for `index` (a client, a sender) under one run's seed.
  static SeededRandom stream(std::uint64_t seed, std::uint64_t index) {
    std::uint64_t mixed = seed ^ (0xd1b54a32d192ed03ULL * (index + 1));
    return SeededRandom(split_mix(mixed));
  }

  std::uint64_t next() {
    const std::uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
    const std::uint64_t shifted = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= shifted;
    state_[3] = rotate_left(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound); bound > 0. The modulo bias is below 2^-40 for the small bounds
  // used here, which no test decision can notice.
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }

  // Uniform in [low, high].
  std::int64_t between(std::int64_t low, std::int64_t high) {
    return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
  }

  // True `per_mille` times in a thousand.
  bool chance(unsigned per_mille) { return below(1000) < per_mille; }

  // An index into `weights`, chosen in proportion to its weight.
  template <std::size_t N>
  std::size_t pick_weighted(const std::array<unsigned, N>& weights) {
    const unsigned total = std::accumulate(weights.begin(), weights.end(), 0U);
    auto ticket = static_cast<unsigned>(below(total));
    for (std::size_t i = 0; i < N; ++i) {
      if (ticket < weights[i]) return i;
      ticket -= weights[i];
    }
    return N - 1;
  }

 private:
  static std::uint64_t rotate_left(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  static std::uint64_t split_mix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::array<std::uint64_t, 4> state_{};
};

}  // namespace epollchat::test
