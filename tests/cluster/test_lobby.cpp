// Three nodes, one lobby: ids carry the node id, chat lines and join/leave notices cross
// nodes, and the counts in them are cluster-wide.
#include <gtest/gtest.h>

#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

TEST(ClusterLobby, WelcomeIdsCarryTheNodeId) {
  Cluster cluster;
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    Member first = join(cluster.port(node));
    EXPECT_EQ(first.name, client_name(Cluster::node_id(node), 1));
    Member second = join(cluster.port(node));
    EXPECT_EQ(second.name, client_name(Cluster::node_id(node), 2));
  }
}

TEST(ClusterLobby, ClientsOnDifferentNodesChat) {
  Cluster cluster;
  auto [a, b, c] = connect_one_per_node<3>(cluster);
  ASSERT_TRUE(settle_in_lobby({&a, &b, &c}));

  a.client.send("hello from n1\n");
  EXPECT_TRUE(expect_line_at_each({&b, &c}, says(a.name, "hello from n1"), kCrossNodeTimeout));
  b.client.send("/me waves from n2\n");
  EXPECT_TRUE(expect_line_at_each({&a, &c}, action(b.name, "waves from n2"), kCrossNodeTimeout));
  c.client.send("and n3\n");
  EXPECT_TRUE(expect_line_at_each({&a, &b}, says(c.name, "and n3"), kCrossNodeTimeout));

  // Nobody gets its own line back, neither from its node nor echoed through Redis: each
  // sender's next line is the marker of a member on another node, sent after the echo would
  // have been queued.
  EXPECT_TRUE(expect_nothing_before_marker(b, a, "marker", kCrossNodeTimeout));
  EXPECT_TRUE(c.client.expect_line(says(b.name, "marker"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(c, b, "marker", kCrossNodeTimeout));
  EXPECT_TRUE(a.client.expect_line(says(c.name, "marker"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(a, c, "marker", kCrossNodeTimeout));
  EXPECT_TRUE(b.client.expect_line(says(a.name, "marker"), kCrossNodeTimeout));
}

TEST(ClusterLobby, JoinAndLeaveNoticesCarryClusterWideCounts) {
  Cluster cluster;
  auto [a, b, c] = connect_one_per_node<3>(cluster);
  // From here every node knows all three, so the counts below do not depend on which node
  // counts (the joiner's or the receiver's).
  ASSERT_TRUE(settle_in_lobby({&a, &b, &c}));

  Member d = join(cluster.port(0));
  EXPECT_EQ(d.name, client_name("n1", 2));
  EXPECT_TRUE(expect_line_at_each({&a, &b, &c}, joined(d.name, 4), kCrossNodeTimeout));

  Member e = join(cluster.port(1));
  EXPECT_TRUE(expect_line_at_each({&a, &b, &c, &d}, joined(e.name, 5), kCrossNodeTimeout));

  d.client.close();
  EXPECT_TRUE(expect_line_at_each({&a, &b, &c, &e}, left(d.name, 4), kCrossNodeTimeout));
  // A /quit reason crosses nodes with the notice.
  c.client.send("/quit see you\n");
  EXPECT_TRUE(expect_line_at_each({&a, &b, &e}, left(c.name, 3) + ": see you", kCrossNodeTimeout));
  // /who agrees with the last count.
  EXPECT_TRUE(who_lists(a, {a.name, b.name, e.name}, kCrossNodeTimeout));
}

TEST(ClusterLobby, AloneOnlyWhenAloneInTheWholeCluster) {
  Cluster cluster;
  auto [a, b] = connect_one_per_node<2>(cluster);
  ASSERT_TRUE(settle_in_lobby({&a, &b}));

  // With b on another node, a is not alone: b gets the line and a gets no notice before
  // b's marker.
  a.client.send("anyone?\n");
  EXPECT_TRUE(b.client.expect_line(says(a.name, "anyone?"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(b, a, "marker", kCrossNodeTimeout));

  b.client.close();
  ASSERT_TRUE(a.client.expect_line(left(b.name, 1), kCrossNodeTimeout));
  a.client.send("anyone now?\n");
  EXPECT_TRUE(a.client.expect_line(kAlone));
}

}  // namespace
}  // namespace epollchat::test
