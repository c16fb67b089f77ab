// Member: a test's chat client that the server has welcomed, known by the name others see it
// by; and the steps the tests take with members, on a single node or across nodes: joining
// (several at once with quiet streams), taking a nickname, moving to a room, proving that
// nothing else arrived with a marker line, asking /rooms and /who.
//
// A member's stream is *quiet* when every line the server has sent it so far has been read,
// so the next line it reads is caused by what the test does next.
//
// Owns: one ChatClient, the member's name and, on a single node, its id.
// Never: sleeps: every step waits for a reply line, bounded by a timeout (kReplyTimeout unless
// the caller gives one: replies that cross nodes get longer). Steps report failure as an
// AssertionResult; those that return a member throw std::runtime_error with the reason.
// Lifetime: the connection closes with the object.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_client.hpp"
#include "support/deadline.hpp"

namespace epollchat::test {

struct Member {
  ChatClient client;
  // "Client #3" or "Client #n2:1" from the welcome line, or the nickname taken since through
  // take_nickname() or try_nickname().
  std::string name;
  // The 3 of a single node's "Client #3"; 0 on a node with a node id.
  int id = 0;
};

// Reads the welcome line of a client that has just connected (and may have sent lines
// already). Throws std::runtime_error with the reason if the first line is not a welcome.
Member read_welcome(ChatClient client);
// Connects (with `options`) and reads the welcome line, throwing as read_welcome() does.
Member join(std::uint16_t port, ConnectOptions options = {});

// Joins `count` members, one after another, then has each read the join notices of those
// who joined after it ("*** Client #2 joined (2 online)", ...), so every stream is quiet.
// Throws std::runtime_error with the reason if a welcome or a notice is missing or wrong.
std::vector<Member> join_quiet(std::uint16_t port, std::size_t count);

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

// Each member's next line must be `line`, each within its own `timeout`. Every member is
// read even after one fails, as a row of EXPECT_TRUE(expect_line(...)) would.
::testing::AssertionResult expect_line_at_each(const std::vector<Member*>& members,
                                               std::string_view line,
                                               std::chrono::milliseconds timeout = kReplyTimeout);

// Sends /nick NAME, reads up to the confirmation (skipping lines before it) and takes the
// new name for `member`.
::testing::AssertionResult take_nickname(Member& member, std::string_view nickname,
                                         std::chrono::milliseconds timeout = kReplyTimeout);
// Sends /nick NAME and reads up to its answer, skipping other lines: true if the member holds
// the name now (and takes it), false if it was refused as taken, nullopt if no answer came.
std::optional<bool> try_nickname(Member& member, std::string_view nickname,
                                 std::chrono::milliseconds timeout = kReplyTimeout);
// take_nickname(), then each of `others` (quiet, in the member's room) must get the notice of
// the rename as its next line, so their streams stay quiet.
::testing::AssertionResult take_nickname_seen_by(Member& member, std::string_view nickname,
                                                 const std::vector<Member*>& others,
                                                 std::chrono::milliseconds timeout = kReplyTimeout);

// Sends /join ROOM; the member's next line must be "*** You are now in ROOM (N online).".
::testing::AssertionResult join_room(Member& member, std::string_view room, int online,
                                     std::chrono::milliseconds timeout = kReplyTimeout);
// The same, skipping the lines that may come before the reply (notices of others).
::testing::AssertionResult join_room_after_notices(
    Member& member, std::string_view room, int online,
    std::chrono::milliseconds timeout = kReplyTimeout);

// `from` says `marker`; `to`'s next line must be that chat line. The server keeps the order of
// what it queues for one client (and, across nodes, lines that take the same path keep
// theirs), so this proves that nothing was sent to `to` in between.
::testing::AssertionResult expect_nothing_before_marker(
    Member& from, Member& to, std::string_view marker = "marker",
    std::chrono::milliseconds timeout = kReplyTimeout);

// Sends /rooms and returns the reply's first line ("*** Rooms: ..."), skipping other lines
// before it. Empty if none came in time.
std::string query_rooms(Member& member, const Deadline& deadline);

// /who's reply: the count on its first line and every name listed (over continuation lines).
struct WhoReply {
  int count = -1;
  std::multiset<std::string> names;
};
// Reads the rest of a /who reply whose first line, already read, is `first` (a who head, see
// lines::parse_who_head) into `reply`. Returns what went wrong, or "".
std::string read_who_reply(Member& member, std::string_view first, const Deadline& deadline,
                           WhoReply& reply);
// Sends /who and reads its reply, which must be the member's next line(s). On a missing or
// malformed reply the failure is added to the test and count is -1.
WhoReply query_who(Member& member, std::chrono::milliseconds timeout = kReplyTimeout);
// query_who(): the reply must count `names.size()` members and list exactly `names`.
::testing::AssertionResult who_lists(Member& asker, const std::multiset<std::string>& names,
                                     std::chrono::milliseconds timeout = kReplyTimeout);
// "a, b, c", for messages.
std::string listed(const std::multiset<std::string>& names);

}  // namespace epollchat::test
