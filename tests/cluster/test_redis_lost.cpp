// Redis stopped (SIGTERM) under a running cluster: every node tells its clients the link is
// lost and chats on locally; Redis restarted on the same port: every node tells its clients
// the link is restored, and chat crosses nodes again.
#include <gtest/gtest.h>

#include <iostream>
#include <vector>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

TEST(RedisLost, EveryNodeChatsLocallyThenTheLinkIsRestored) {
  Cluster cluster;
  PairsOnEveryNode pairs(cluster);
  ASSERT_TRUE(settle_in_lobby(pairs.all()));

  std::vector<std::size_t> marks;
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    marks.push_back(cluster.status_mark(node));
  }
  cluster.redis().stop();
  EXPECT_TRUE(pairs.expect_next_line_everywhere(kLinkLost, kLostTimeout));
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    EXPECT_TRUE(cluster.wait_for_status(node, kLinkDownStatus, marks[node]));
  }
  EXPECT_TRUE(pairs.expect_local_chat_only("local while Redis is down"));

  const auto restarted_at = Clock::now();
  cluster.redis().start();
  EXPECT_TRUE(pairs.expect_next_line_everywhere(kLinkRestored, kRestoredTimeout));
  std::cout << "link restored on every node " << elapsed_ms(restarted_at)
            << " ms after Redis came back\n";
  EXPECT_TRUE(pairs.expect_cross_node_chat("across nodes again"));
  EXPECT_TRUE(pairs.expect_cluster_wide_counts());
}

// The first line after "Link restored." of a member alone on its node must not be taken
// for a line said to an empty room: the member on the other node is still there.
TEST(RedisLost, FirstLineAfterTheRestoreReachesALoneMemberOnAnotherNode) {
  Cluster cluster({.nodes = 2});
  auto [a, b] = connect_one_per_node<2>(cluster);
  ASSERT_TRUE(settle_in_lobby({&a, &b}));

  cluster.redis().stop();
  ASSERT_TRUE(expect_line_at_each({&a, &b}, kLinkLost, kLostTimeout));
  cluster.redis().start();
  const Deadline deadline(kRestoredTimeout);
  ASSERT_TRUE(a.client.expect_line(kLinkRestored, deadline.remaining()));
  ASSERT_TRUE(b.client.expect_line(kLinkRestored, deadline.remaining()));

  a.client.send("first line after the restore\n");
  EXPECT_TRUE(
      b.client.skip_until_line(says(a.name, "first line after the restore"), kCrossNodeTimeout));
  // Nothing else came to a: no "alone" notice, and no notice that b joined (b never left;
  // a was told the link was down and back).
  EXPECT_TRUE(expect_nothing_before_marker(b, a, "marker", kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
