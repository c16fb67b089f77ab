// Shared steps for the command tests: naming a member and proving nothing else arrived.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
#pragma once

#include <string>
#include <string_view>

#include "integration/chat_room.hpp"

namespace epollchat::test {

inline std::string client_name(int id) { return "Client #" + std::to_string(id); }

// Sends /nick NAME and reads up to the sender's confirmation (skipping notices before it).
inline ::testing::AssertionResult take_nickname(Member& member, std::string_view nickname) {
  member.client.send("/nick " + std::string(nickname) + "\n");
  return member.client.skip_until_line("*** You are now known as " + std::string(nickname) + ".");
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
