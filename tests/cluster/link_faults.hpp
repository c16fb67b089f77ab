// Shared steps for the tests of Redis faults: two members on every node, the link notices
// reaching all of them, local chat on each node, cross-node chat after recovery.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
#pragma once

#include <gtest/gtest.h>
#include <chrono>
#include <string>
#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {

// epollchatd(8): a stuck Redis is detected within ~5 s (heartbeat unanswered), a stopped one at
// once; tests allow 10 s. Recovery (backoff 250 ms doubling to 4 s, with jitter) within 15 s.
inline constexpr std::chrono::milliseconds kLostTimeout{std::chrono::seconds(10)};
inline constexpr std::chrono::milliseconds kRestoredTimeout{std::chrono::seconds(15)};

// Two members per node: members[2 * node] and members[2 * node + 1].
class PairsOnEveryNode {
 public:
  // Connects the members, two on each node in turn. Does not wait for anything else.
  explicit PairsOnEveryNode(Cluster& cluster) {
    for (std::size_t node = 0; node < cluster.size(); ++node) {
      members_.push_back(join(cluster.port(node)));
      members_.push_back(join(cluster.port(node)));
    }
  }

  [[nodiscard]] std::size_t nodes() const { return members_.size() / 2; }
  Member& first(std::size_t node) { return members_.at(2 * node); }
  Member& second(std::size_t node) { return members_.at(2 * node + 1); }
  std::vector<Member*> all() {
    std::vector<Member*> result;
    for (auto& member : members_) result.push_back(&member);
    return result;
  }

  // Each member's next line is `line`, all within `timeout`.
  ::testing::AssertionResult expect_next_line_everywhere(std::string_view line,
                                                         std::chrono::milliseconds timeout) {
    const Deadline deadline(timeout);
    for (Member* member : all()) {
      auto seen = member->client.expect_line(line, deadline.remaining());
      if (!seen) return seen << " (" << member->name << ")";
    }
    return ::testing::AssertionSuccess();
  }

  // On every node, the first member says a line and the second gets it as its next line,
  // and the first gets nothing back (no "alone" notice: the second is there). /who lists
  // exactly the two of them: while the link is down, /who is local.
  ::testing::AssertionResult expect_local_chat_only(std::string_view text) {
    for (std::size_t node = 0; node < nodes(); ++node) {
      first(node).client.send(std::string(text) + "\n");
      auto heard =
          second(node).client.expect_line(lines::says(first(node).name, text), kReplyTimeout);
      if (!heard) return heard << " (" << second(node).name << ")";
      auto quiet =
          expect_nothing_before_marker(second(node), first(node), "local marker", kReplyTimeout);
      if (!quiet) return quiet << " (" << first(node).name << ")";
      const WhoReply who = query_who(first(node), kReplyTimeout);
      const std::multiset<std::string> local{first(node).name, second(node).name};
      if (who.count != 2 || who.names != local) {
        return ::testing::AssertionFailure()
               << first(node).name << ": /who while the link is down lists " << who.count
               << " members, expected only " << first(node).name << " and " << second(node).name;
      }
    }
    return ::testing::AssertionSuccess();
  }

  // The first member of node 0 says `text`; every member of every other node hears it
  // (skipping notices the reconnection may bring before it).
  ::testing::AssertionResult expect_cross_node_chat(std::string_view text) {
    first(0).client.send(std::string(text) + "\n");
    const std::string expected = lines::says(first(0).name, text);
    if (auto heard = second(0).client.skip_until_line(expected, kCrossNodeTimeout); !heard) {
      return heard << " (" << second(0).name << ")";
    }
    for (std::size_t node = 1; node < nodes(); ++node) {
      for (Member* member : {&first(node), &second(node)}) {
        if (auto heard = member->client.skip_until_line(expected, kCrossNodeTimeout); !heard) {
          return heard << " (" << member->name << ")";
        }
      }
    }
    return ::testing::AssertionSuccess();
  }

  // Waits until every node counts all members again (views settle after a recovery).
  ::testing::AssertionResult expect_cluster_wide_counts() {
    std::vector<Member*> askers;
    for (std::size_t node = 0; node < nodes(); ++node) askers.push_back(&first(node));
    return settle(askers, lines::lobby_rooms_reply(members_.size()));
  }

 private:
  std::vector<Member> members_;
};

}  // namespace epollchat::test
