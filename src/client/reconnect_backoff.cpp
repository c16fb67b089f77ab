#include "client/reconnect_backoff.hpp"

#include <algorithm>

namespace epollchat::client {

ReconnectBackoff::ReconnectBackoff() : random_(std::random_device{}()) {}

std::chrono::milliseconds ReconnectBackoff::next_delay() {
  std::uniform_real_distribution<double> spread(0.8, 1.2);
  const auto jittered = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(
      static_cast<double>(base_.count()) * spread(random_)));
  base_ = std::min(base_ * 2, kLongest);
  return std::min(jittered, kLongest);
}

}  // namespace epollchat::client
