// Shared steps for the command tests: nicknames, rename notices, and proving nothing else
// arrived. Most command tests start from quiet members (join_quiet(), chat_room.hpp) and
// prove "nothing else arrived" with a marker line.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "integration/chat_room.hpp"

namespace epollchat::test {

// Sends /nick NAME and reads up to the sender's confirmation (skipping notices before it).
inline ::testing::AssertionResult take_nickname(Member& member, std::string_view nickname) {
  member.client.send("/nick " + std::string(nickname) + "\n");
  return member.client.skip_until_line(lines::now_known_as(nickname));
}

// take_nickname() for a member that has no nickname yet, then each of `others` (quiet, in
// the member's room) reads the notice of the rename, so their streams stay quiet.
inline ::testing::AssertionResult take_nickname_seen_by(Member& member, std::string_view nickname,
                                                        std::initializer_list<Member*> others) {
  if (auto taken = take_nickname(member, nickname); !taken) return taken;
  const std::string notice = lines::known_as(lines::client_name(member.id), nickname);
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
  return to.client.expect_line(lines::says(from_name, "marker"));
}

}  // namespace epollchat::test
