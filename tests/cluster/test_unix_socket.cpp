// The link over a unix socket: `--redis /path/redis.sock` links the nodes as TCP does.
#include <gtest/gtest.h>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace cluster_lines;

TEST(ClusterUnixSocket, NodesLinkedThroughASocketPathChat) {
  ClusterOptions options;
  options.redis.transport = RedisTransport::unix_socket;
  Cluster cluster(options);
  ASSERT_TRUE(cluster.redis().address().starts_with("/"));

  ClusterMember a = connect_member(cluster.port(0));
  ClusterMember b = connect_member(cluster.port(1));
  ClusterMember c = connect_member(cluster.port(2));
  ASSERT_TRUE(settle({&a, &b, &c}, "*** Rooms: lobby (3)"));

  a.client.send("over the socket\n");
  EXPECT_TRUE(b.client.expect_line(says(a.name, "over the socket"), kCrossNodeTimeout));
  EXPECT_TRUE(c.client.expect_line(says(a.name, "over the socket"), kCrossNodeTimeout));
  ClusterMember d = connect_member(cluster.port(2));
  for (ClusterMember* member : {&a, &b, &c}) {
    EXPECT_TRUE(member->client.expect_line(joined(d.name, 4), kCrossNodeTimeout)) << member->name;
  }
  const WhoReply who = query_who(b);
  EXPECT_EQ(who.count, 4);
  EXPECT_EQ(who.names, (std::multiset<std::string>{a.name, b.name, c.name, d.name}));
}

TEST(ClusterUnixSocket, RestartOnTheSamePathRestoresTheLink) {
  ClusterOptions options;
  options.redis.transport = RedisTransport::unix_socket;
  options.nodes = 2;
  Cluster cluster(options);
  PairsOnEveryNode pairs(cluster);
  ASSERT_TRUE(settle(pairs.all(), "*** Rooms: lobby (4)"));

  cluster.redis().stop();
  EXPECT_TRUE(pairs.expect_next_line_everywhere(kLinkLost, kLostTimeout));
  EXPECT_TRUE(pairs.expect_local_chat_only("local while the socket is gone"));
  cluster.redis().start();
  EXPECT_TRUE(pairs.expect_next_line_everywhere(kLinkRestored, kRestoredTimeout));
  EXPECT_TRUE(pairs.expect_cross_node_chat("back over the socket"));
}

}  // namespace
}  // namespace epollchat::test
