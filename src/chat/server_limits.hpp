// ServerLimits: the limits of the chat service that its operator sets (and may change on a
// reload while clients stay connected).
#pragma once

#include <chrono>
#include <cstddef>

#include "core/connection.hpp"

namespace epollchat::chat {

struct ServerLimits {
  // Per connection: line length, unsent output, lines per second.
  ConnectionLimits connection;
  std::size_t max_clients = 1024;
  // How long an incomplete line may wait; zero: forever.
  std::chrono::seconds line_timeout{60};
};

}  // namespace epollchat::chat
