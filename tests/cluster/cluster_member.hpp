// The steps of the cluster tests that only make sense across nodes, on top of Member and its
// steps (support/member.hpp): one member on each node, waiting until the nodes' views of who
// is where agree, and draining a member on a thread of its own. Also the timeouts for replies
// that cross nodes, which the cluster tests hand to the steps of support/member.hpp.
//
// Never: sleeps: every step waits for a reply line against a deadline.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/cluster.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {

// Replies that cross a node and Redis: generous, for ASan builds on a busy machine.
inline constexpr std::chrono::milliseconds kCrossNodeTimeout{std::chrono::seconds(10)};
// For a cluster's views of who is where to agree after joins.
inline constexpr std::chrono::milliseconds kSettleTimeout{std::chrono::seconds(15)};

namespace detail {
template <std::size_t... Node>
std::array<Member, sizeof...(Node)> connect_to_nodes(Cluster& cluster,
                                                     std::index_sequence<Node...>) {
  // The elements of a braced list are initialised in order: node 0 connects first.
  return {join(cluster.port(Node))...};
}
}  // namespace detail

// One member on each of the first `N` nodes, connected in node order: member i on node i
// (`auto [a, b, c] = connect_one_per_node<3>(cluster);`). Does not wait for anything else.
template <std::size_t N>
std::array<Member, N> connect_one_per_node(Cluster& cluster) {
  return detail::connect_to_nodes(cluster, std::make_index_sequence<N>{});
}

// Asks each member `/rooms` until the reply is `expected_rooms` (e.g. "*** Rooms: lobby (3)"):
// then its node has learnt every join counted there and has already queued any notice about
// them to that member, before the reply, so the member's stream is quiet from here on.
// Lines read on the way are dropped. Between two asks it waits for the member's next line
// for at most 50 ms, so a cluster still settling is not flooded with commands.
::testing::AssertionResult settle(const std::vector<Member*>& members,
                                  std::string_view expected_rooms,
                                  std::chrono::milliseconds timeout = kSettleTimeout);
// settle() for members who are all in the lobby: until every one's node counts all of them.
::testing::AssertionResult settle_in_lobby(const std::vector<Member*>& members,
                                           std::chrono::milliseconds timeout = kSettleTimeout);

// try_nickname() until the member holds the name; between two asks it waits for the member's
// next line for at most 100 ms. Fails if the name is still taken when `timeout` runs out.
::testing::AssertionResult wait_for_nickname(Member& member, std::string_view nickname,
                                             std::chrono::milliseconds timeout = kSettleTimeout);

// Asks /who until the reply lists exactly `names`, skipping notices that come before a reply;
// between two asks it waits for the member's next line for at most 100 ms. Fails with the last
// reply if it still differs when `timeout` runs out.
::testing::AssertionResult wait_for_who(Member& asker, const std::multiset<std::string>& names,
                                        std::chrono::milliseconds timeout = kSettleTimeout);

// Reads and discards everything that arrives for a member, on a thread of its own, so that a
// member who must stay in a room during a flood neither holds the senders back nor is cut
// off. The member's ChatClient must not be used while the drain runs; its connection stays
// open.
class Drain {
 public:
  explicit Drain(Member& member);
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;
  ~Drain();  // stops the thread

  [[nodiscard]] std::size_t bytes() const { return bytes_.load(); }

 private:
  std::atomic<std::size_t> bytes_{0};
  std::jthread thread_;
};

}  // namespace epollchat::test
