// ServerLimits: the limits of the chat service that its operator sets (and may change on a
// reload while clients stay connected).
#pragma once

#include <chrono>
#include <cstddef>

#include "core/address_range.hpp"
#include "core/connection.hpp"

namespace epollchat::chat {

struct ServerLimits {
  // Per connection: line length, unsent output, lines per second.
  ConnectionLimits connection;
  std::size_t max_clients = 1024;
  // How long an incomplete line may wait; zero: forever.
  std::chrono::seconds line_timeout{60};
  // The IP peers that may connect to the plain and to the TLS listeners; any other is told
  // so and closed. Peers on unix sockets are not screened. The list is consulted when a connection
  // is accepted, so a change applies to new connections only.
  AddressRanges allowed = AddressRanges::any();
  AddressRanges tls_allowed = AddressRanges::any();
  // Chat lines each room keeps for the clients that join it (0: none). A change applies to
  // every room at once, keeping its newest lines.
  std::size_t history = 20;
};

}  // namespace epollchat::chat
