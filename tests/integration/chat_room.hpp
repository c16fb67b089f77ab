// Shared steps for the integration, command and adversarial tests: joining the room and
// reading the id, and joining several members whose streams start quiet.
//
// A member's stream is *quiet* when every line the server has sent it so far has been read,
// so the next line it reads is caused by what the test does next.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// Joins `count` members, one after another, then has each read the join notices of those
// who joined after it ("*** Client #B joined (2 online)", ...), so every stream is quiet.
// Throws (failing the test with the reason) if a welcome or a notice is missing or wrong.
inline std::vector<Member> join_quiet(std::uint16_t port, std::size_t count) {
  std::vector<Member> members;
  members.reserve(count);
  for (std::size_t i = 0; i < count; ++i) members.push_back(join(port));
  for (std::size_t later = 1; later < count; ++later) {
    const int online = static_cast<int>(later + 1);
    for (std::size_t earlier = 0; earlier < later; ++earlier) {
      const auto told =
          members[earlier].client.expect_line(lines::joined(members[later].id, online));
      if (!told) {
        throw std::runtime_error(lines::client_name(members[earlier].id) + " was not told that " +
                                 lines::client_name(members[later].id) +
                                 " joined: " + told.message());
      }
    }
  }
  return members;
}

// The same, for a fixed number of members named by a structured binding:
//   auto [a, b] = join_quiet<2>(daemon.port());
template <std::size_t N>
std::array<Member, N> join_quiet(std::uint16_t port) {
  std::vector<Member> members = join_quiet(port, N);
  const auto move_into_array = [&members]<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<Member, N>{std::move(members[I])...};
  };
  return move_into_array(std::make_index_sequence<N>{});
}

}  // namespace epollchat::test
