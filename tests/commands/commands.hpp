// Shared steps for the command tests: joining members whose streams start quiet, naming a
// member, and proving nothing else arrived.
//
// A member's stream is *quiet* when every line the server has sent it so far has been read,
// so the next line it reads is caused by what the test does next. Most command tests start
// from quiet members and prove "nothing else arrived" with a marker line.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "integration/chat_room.hpp"

namespace epollchat::test {

inline std::string client_name(int id) { return "Client #" + std::to_string(id); }

// What the others in the room are told when `old_name` takes the nickname `new_name`.
inline std::string renamed_notice(std::string_view old_name, std::string_view new_name) {
  return "*** " + std::string(old_name) + " is now known as " + std::string(new_name);
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
        throw std::runtime_error(client_name(members[earlier].id) + " was not told that " +
                                 client_name(members[later].id) + " joined: " + told.message());
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

// Sends /nick NAME and reads up to the sender's confirmation (skipping notices before it).
inline ::testing::AssertionResult take_nickname(Member& member, std::string_view nickname) {
  member.client.send("/nick " + std::string(nickname) + "\n");
  return member.client.skip_until_line("*** You are now known as " + std::string(nickname) + ".");
}

// take_nickname() for a member that has no nickname yet, then each of `others` (quiet, in
// the member's room) reads the notice of the rename, so their streams stay quiet.
inline ::testing::AssertionResult take_nickname_seen_by(Member& member, std::string_view nickname,
                                                        std::initializer_list<Member*> others) {
  if (auto taken = take_nickname(member, nickname); !taken) return taken;
  const std::string notice = renamed_notice(client_name(member.id), nickname);
  for (Member* other : others) {
    if (auto told = other->client.expect_line(notice); !told) return told;
  }
  return ::testing::AssertionSuccess();
}

// `from` says a marker line; `to`'s next line must be that chat line. Proves that nothing
// was sent to `to` in between (the server keeps the order of what it queues).
inline ::testing::AssertionResult expect_nothing_before_marker(Member& from,
                                                               std::string_view from_name,
                                                               Member& to) {
  from.client.send("marker\n");
  return to.client.expect_line(std::string(from_name) + " says >> marker");
}

}  // namespace epollchat::test
