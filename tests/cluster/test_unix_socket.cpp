// The link over a unix socket: `--redis /path/redis.sock` links the nodes as TCP does.
#include <gtest/gtest.h>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

TEST(ClusterUnixSocket, NodesLinkedThroughASocketPathChat) {
  ClusterOptions options;
  options.redis.transport = RedisTransport::unix_socket;
  Cluster cluster(options);
  ASSERT_TRUE(cluster.redis().address().starts_with("/"));

  auto [a, b, c] = connect_one_per_node<3>(cluster);
  ASSERT_TRUE(settle_in_lobby({&a, &b, &c}));

  a.client.send("over the socket\n");
  EXPECT_TRUE(expect_line_at_each({&b, &c}, says(a.name, "over the socket"), kCrossNodeTimeout));
  Member d = join(cluster.port(2));
  EXPECT_TRUE(expect_line_at_each({&a, &b, &c}, joined(d.name, 4), kCrossNodeTimeout));
  EXPECT_TRUE(who_lists(b, {a.name, b.name, c.name, d.name}, kCrossNodeTimeout));
}

TEST(ClusterUnixSocket, RestartOnTheSamePathRestoresTheLink) {
  ClusterOptions options;
  options.redis.transport = RedisTransport::unix_socket;
  options.nodes = 2;
  Cluster cluster(options);
  PairsOnEveryNode pairs(cluster);
  ASSERT_TRUE(settle_in_lobby(pairs.all()));

  cluster.redis().stop();
  EXPECT_TRUE(pairs.expect_next_line_everywhere(kLinkLost, kLostTimeout));
  EXPECT_TRUE(pairs.expect_local_chat_only("local while the socket is gone"));
  cluster.redis().start();
  EXPECT_TRUE(pairs.expect_next_line_everywhere(kLinkRestored, kRestoredTimeout));
  EXPECT_TRUE(pairs.expect_cross_node_chat("back over the socket"));
}

}  // namespace
}  // namespace epollchat::test
