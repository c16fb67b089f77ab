// Shared steps for the integration tests: joining the room and reading the id.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "support/chat_client.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {

// A connected client that has read its welcome line.
struct Member {
  ChatClient client;
  int id = 0;
};

// Connects and reads the welcome line. Throws (failing the test with the reason) if the first
// line is not a welcome.
inline Member join(std::uint16_t port, ConnectOptions options = {}) {
  ChatClient client(port, std::move(options));
  const auto line = client.read_line();
  if (!line) {
    throw std::runtime_error(client.peer_closed() ? "closed before the welcome line"
                                                  : "no welcome line within the timeout");
  }
  const auto id = lines::parse_welcome_id(*line);
  if (!id) throw std::runtime_error("first line is not a welcome: \"" + escape_bytes(*line) + "\"");
  return {std::move(client), *id};
}

}  // namespace epollchat::test
