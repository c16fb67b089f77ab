// ClusterMember: a test's chat client on one node of a cluster, known by its display name.
//
// Owns: one ChatClient and the name others see it by: "Client #n2:1" from its welcome line,
// or the nickname it took. Also here: the steps the cluster tests share (connecting across
// nodes, settling a cluster's view, renames and room changes seen by others, fencing with a
// marker line).
// Never: sleeps: every step waits for a reply line against a deadline.
// Lifetime: the connection closes with the object.
#pragma once

#include <gtest/gtest.h>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/cluster.hpp"
#include "support/chat_client.hpp"
#include "support/deadline.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {

// Replies that cross a node and Redis: generous, for ASan builds on a busy machine.
inline constexpr std::chrono::milliseconds kCrossNodeTimeout{std::chrono::seconds(10)};
// For a cluster's views of who is where to agree after joins.
inline constexpr std::chrono::milliseconds kSettleTimeout{std::chrono::seconds(15)};

struct ClusterMember {
  ChatClient client;
  std::string name;
};

// Connects (with `options`) and reads the welcome line (its name follows "Your chat ID is: ").
// Throws std::runtime_error with the reason if the first line is not a welcome.
ClusterMember connect_member(std::uint16_t port, ConnectOptions options = {});

namespace detail {
template <std::size_t... Node>
std::array<ClusterMember, sizeof...(Node)> connect_to_nodes(Cluster& cluster,
                                                            std::index_sequence<Node...>) {
  // The elements of a braced list are initialised in order: node 0 connects first.
  return {connect_member(cluster.port(Node))...};
}
}  // namespace detail

// One member on each of the first `N` nodes, connected in node order: member i on node i
// (`auto [a, b, c] = connect_one_per_node<3>(cluster);`). Does not wait for anything else.
template <std::size_t N>
std::array<ClusterMember, N> connect_one_per_node(Cluster& cluster) {
  return detail::connect_to_nodes(cluster, std::make_index_sequence<N>{});
}

// Sends /nick NAME, reads up to the confirmation (skipping notices before it) and takes the
// new name for `member`.
::testing::AssertionResult take_nickname(ClusterMember& member, std::string_view nickname,
                                         std::chrono::milliseconds timeout = kCrossNodeTimeout);

// Sends /nick NAME and reads up to its answer, skipping other lines: true if the member holds
// the name now (and takes it), false if it was refused as taken, nullopt if no answer came.
std::optional<bool> try_nickname(ClusterMember& member, std::string_view nickname,
                                 std::chrono::milliseconds timeout = kCrossNodeTimeout);
// try_nickname until the member holds the name; between two asks it waits for the member's
// next line for at most 100 ms. Fails if the name is still taken when `timeout` runs out.
::testing::AssertionResult wait_for_nickname(ClusterMember& member, std::string_view nickname,
                                             std::chrono::milliseconds timeout = kSettleTimeout);

// Each member's next line must be `line`, each within its own `timeout`. Every member is
// read even after one fails, as a row of EXPECT_TRUE(expect_line(...)) would.
::testing::AssertionResult expect_line_at_each(
    const std::vector<ClusterMember*>& members, std::string_view line,
    std::chrono::milliseconds timeout = kCrossNodeTimeout);

// take_nickname, then each of `others` must get the rename notice as its next line.
::testing::AssertionResult take_nickname_seen_by(
    ClusterMember& member, std::string_view nickname, const std::vector<ClusterMember*>& others,
    std::chrono::milliseconds timeout = kCrossNodeTimeout);

// Sends /join ROOM; the member's next line must be "*** You are now in ROOM (N online).".
::testing::AssertionResult join_room(ClusterMember& member, std::string_view room, int online,
                                     std::chrono::milliseconds timeout = kCrossNodeTimeout);

// `from` says `marker`; `to`'s next line must be that chat line. When both lines travel the
// same path (same sender node, same Redis channel, same receiving node), this proves that
// nothing sent to `to` before the marker was delivered in between.
::testing::AssertionResult expect_nothing_before_marker(
    ClusterMember& from, ClusterMember& to, std::string_view marker = "marker",
    std::chrono::milliseconds timeout = kCrossNodeTimeout);

// Sends /rooms and returns the reply's first line ("*** Rooms: ..."), skipping other lines
// before it. Empty if none came in time.
std::string query_rooms(ClusterMember& member, const Deadline& deadline);

// Asks each member `/rooms` until the reply is `expected_rooms` (e.g. "*** Rooms: lobby (3)"):
// then its node has learnt every join counted there and has already queued any notice about
// them to that member, before the reply, so the member's stream is quiet from here on.
// Lines read on the way are dropped. Between two asks it waits for the member's next line
// for at most 50 ms, so a cluster still settling is not flooded with commands.
::testing::AssertionResult settle(const std::vector<ClusterMember*>& members,
                                  std::string_view expected_rooms,
                                  std::chrono::milliseconds timeout = kSettleTimeout);
// settle() for members who are all in the lobby: until every one's node counts all of them.
::testing::AssertionResult settle_in_lobby(const std::vector<ClusterMember*>& members,
                                           std::chrono::milliseconds timeout = kSettleTimeout);

// /who's reply: the count on its first line and every name listed (over continuation lines).
struct WhoReply {
  int count = -1;
  std::multiset<std::string> names;
};
// Sends /who and reads its reply, which must be the member's next line(s). On a missing or
// malformed reply the failure is added to the test and count is -1.
WhoReply query_who(ClusterMember& member, std::chrono::milliseconds timeout = kCrossNodeTimeout);
// query_who: the reply must count `names.size()` members and list exactly `names`.
::testing::AssertionResult who_lists(ClusterMember& asker, const std::multiset<std::string>& names,
                                     std::chrono::milliseconds timeout = kCrossNodeTimeout);
// Asks /who until the reply lists exactly `names`, skipping notices that come before a reply;
// between two asks it waits for the member's next line for at most 100 ms. Fails with the last
// reply if it still differs when `timeout` runs out.
::testing::AssertionResult wait_for_who(ClusterMember& asker,
                                        const std::multiset<std::string>& names,
                                        std::chrono::milliseconds timeout = kSettleTimeout);

// Reads and discards everything that arrives for a member, on a thread of its own, so that a
// member who must stay in a room during a flood neither holds the senders back nor is cut
// off. The member's ChatClient must not be used while the drain runs; its connection stays
// open.
class Drain {
 public:
  explicit Drain(ClusterMember& member);
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;
  ~Drain();  // stops the thread

  [[nodiscard]] std::size_t bytes() const { return bytes_.load(); }

 private:
  std::atomic<std::size_t> bytes_{0};
  std::jthread thread_;
};

}  // namespace epollchat::test
