// Three nodes, one lobby: ids carry the node id, chat lines and join/leave notices cross
// nodes, and the counts in them are cluster-wide.
#include <gtest/gtest.h>

#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace cluster_lines;

TEST(ClusterLobby, WelcomeIdsCarryTheNodeId) {
  Cluster cluster;
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    ClusterMember first = connect_member(cluster.port(node));
    EXPECT_EQ(first.name, client_name(Cluster::node_id(node), 1));
    ClusterMember second = connect_member(cluster.port(node));
    EXPECT_EQ(second.name, client_name(Cluster::node_id(node), 2));
  }
}

TEST(ClusterLobby, ClientsOnDifferentNodesChat) {
  Cluster cluster;
  ClusterMember a = connect_member(cluster.port(0));
  ClusterMember b = connect_member(cluster.port(1));
  ClusterMember c = connect_member(cluster.port(2));
  ASSERT_TRUE(settle({&a, &b, &c}, "*** Rooms: lobby (3)"));

  a.client.send("hello from n1\n");
  EXPECT_TRUE(b.client.expect_line(says(a.name, "hello from n1"), kCrossNodeTimeout));
  EXPECT_TRUE(c.client.expect_line(says(a.name, "hello from n1"), kCrossNodeTimeout));
  b.client.send("/me waves from n2\n");
  EXPECT_TRUE(a.client.expect_line(action(b.name, "waves from n2"), kCrossNodeTimeout));
  EXPECT_TRUE(c.client.expect_line(action(b.name, "waves from n2"), kCrossNodeTimeout));
  c.client.send("and n3\n");
  EXPECT_TRUE(a.client.expect_line(says(c.name, "and n3"), kCrossNodeTimeout));
  EXPECT_TRUE(b.client.expect_line(says(c.name, "and n3"), kCrossNodeTimeout));

  // Nobody gets its own line back, neither from its node nor echoed through Redis: each
  // sender's next line is the marker of a member on another node, sent after the echo would
  // have been queued.
  EXPECT_TRUE(expect_nothing_before_marker(b, a));
  EXPECT_TRUE(c.client.expect_line(says(b.name, "marker"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(c, b));
  EXPECT_TRUE(a.client.expect_line(says(c.name, "marker"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(a, c));
  EXPECT_TRUE(b.client.expect_line(says(a.name, "marker"), kCrossNodeTimeout));
}

TEST(ClusterLobby, JoinAndLeaveNoticesCarryClusterWideCounts) {
  Cluster cluster;
  ClusterMember a = connect_member(cluster.port(0));
  ClusterMember b = connect_member(cluster.port(1));
  ClusterMember c = connect_member(cluster.port(2));
  // From here every node knows all three, so the counts below do not depend on which node
  // counts (the joiner's or the receiver's).
  ASSERT_TRUE(settle({&a, &b, &c}, "*** Rooms: lobby (3)"));

  ClusterMember d = connect_member(cluster.port(0));
  EXPECT_EQ(d.name, client_name("n1", 2));
  EXPECT_TRUE(a.client.expect_line(joined(d.name, 4), kCrossNodeTimeout));
  EXPECT_TRUE(b.client.expect_line(joined(d.name, 4), kCrossNodeTimeout));
  EXPECT_TRUE(c.client.expect_line(joined(d.name, 4), kCrossNodeTimeout));

  ClusterMember e = connect_member(cluster.port(1));
  for (ClusterMember* member : {&a, &b, &c, &d}) {
    EXPECT_TRUE(member->client.expect_line(joined(e.name, 5), kCrossNodeTimeout)) << member->name;
  }

  d.client.close();
  for (ClusterMember* member : {&a, &b, &c, &e}) {
    EXPECT_TRUE(member->client.expect_line(left(d.name, 4), kCrossNodeTimeout)) << member->name;
  }
  // A /quit reason crosses nodes with the notice.
  c.client.send("/quit see you\n");
  for (ClusterMember* member : {&a, &b, &e}) {
    EXPECT_TRUE(member->client.expect_line(left(c.name, 3) + ": see you", kCrossNodeTimeout))
        << member->name;
  }
  // /who agrees with the last count.
  const WhoReply who = query_who(a);
  EXPECT_EQ(who.count, 3);
  EXPECT_EQ(who.names, (std::multiset<std::string>{a.name, b.name, e.name}));
}

TEST(ClusterLobby, AloneOnlyWhenAloneInTheWholeCluster) {
  Cluster cluster;
  ClusterMember a = connect_member(cluster.port(0));
  ClusterMember b = connect_member(cluster.port(1));
  ASSERT_TRUE(settle({&a, &b}, "*** Rooms: lobby (2)"));

  // With b on another node, a is not alone: b gets the line and a gets no notice before
  // b's marker.
  a.client.send("anyone?\n");
  EXPECT_TRUE(b.client.expect_line(says(a.name, "anyone?"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(b, a));

  b.client.close();
  ASSERT_TRUE(a.client.expect_line(left(b.name, 1), kCrossNodeTimeout));
  a.client.send("anyone now?\n");
  EXPECT_TRUE(a.client.expect_line(kAlone));
}

}  // namespace
}  // namespace epollchat::test
