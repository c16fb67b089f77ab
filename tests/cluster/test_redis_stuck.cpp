// A stuck Redis (SIGSTOP: connections stay open, nothing is answered) stalls no node: local
// chat goes on at once, the nodes notice within ~10 s and tell their clients the link is
// lost; after SIGCONT they tell them it is restored and chat crosses nodes again.
#include <gtest/gtest.h>

#include <iostream>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

// A node's loop must not wait on Redis: a local line arrives this fast even while Redis
// has stopped answering and before the node has noticed.
constexpr double kLocalLatencyLimitMs = 2000.0;

TEST(RedisStuck, LocalChatNeverStallsAndTheLinkComesBack) {
  Cluster cluster;
  PairsOnEveryNode pairs(cluster);
  ASSERT_TRUE(settle(pairs.all(), "*** Rooms: lobby (6)"));

  const auto paused_at = Clock::now();
  cluster.redis().pause();
  const Deadline deadline(kLostTimeout);
  // Right away, before any node can have noticed: local lines still flow. The lost notice may
  // come before or after the line, so both are collected.
  for (std::size_t node = 0; node < pairs.nodes(); ++node) {
    const std::string text = "said while Redis is stuck";
    const auto sent_at = Clock::now();
    pairs.first(node).client.send(text + "\n");
    bool heard = false;
    bool told = false;
    while (!heard || !told) {
      const auto line = pairs.second(node).client.read_line(deadline.remaining());
      ASSERT_TRUE(line) << pairs.second(node).name << ": heard the line: " << heard
                        << ", told the link is lost: " << told << ", after "
                        << elapsed_ms(paused_at) << " ms";
      if (*line == says(pairs.first(node).name, text)) {
        heard = true;
        EXPECT_LT(elapsed_ms(sent_at), kLocalLatencyLimitMs) << pairs.second(node).name;
      } else {
        ASSERT_EQ(*line, kLinkLost) << pairs.second(node).name;
        told = true;
      }
    }
    ASSERT_TRUE(pairs.first(node).client.expect_line(kLinkLost, deadline.remaining()))
        << pairs.first(node).name;
  }
  std::cout << "every node reported the link lost within " << elapsed_ms(paused_at)
            << " ms of SIGSTOP\n";
  EXPECT_TRUE(pairs.expect_local_chat_only("local while Redis is stuck"));

  const auto resumed_at = Clock::now();
  cluster.redis().resume();
  EXPECT_TRUE(pairs.expect_next_line_everywhere(kLinkRestored, kRestoredTimeout));
  std::cout << "link restored on every node " << elapsed_ms(resumed_at) << " ms after SIGCONT\n";
  EXPECT_TRUE(pairs.expect_cross_node_chat("across nodes again"));
  EXPECT_TRUE(pairs.expect_cluster_wide_counts());
}

}  // namespace
}  // namespace epollchat::test
