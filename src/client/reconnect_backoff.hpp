// ReconnectBackoff: how long to wait before each attempt to reach the server again.
//
// 0.5 s, doubling up to 30 s, each delay spread by +-20% so that the clients of a server
// that restarts do not all come back in the same instant.
//
// Owns: the attempt count and a random generator. Never sleeps; the event loop waits.
#pragma once

#include <chrono>
#include <random>

namespace epollchat::client {

class ReconnectBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{500};
  static constexpr std::chrono::milliseconds kLongest{30'000};

  ReconnectBackoff();

  // The delay before the next attempt; each call doubles the base.
  [[nodiscard]] std::chrono::milliseconds next_delay();
  // After a successful connection, the next loss starts from kFirst again.
  void reset() noexcept { base_ = kFirst; }

 private:
  std::chrono::milliseconds base_ = kFirst;
  std::minstd_rand random_;
};

}  // namespace epollchat::client
