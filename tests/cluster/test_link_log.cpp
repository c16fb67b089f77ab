// The link in the log at debug: each node tells of connecting to Redis, the link up with
// what it told the others, the resync, the other nodes joining, and what it forgets when
// Redis is lost; none of it at the default level. Redis stopped and started again.
#include <gtest/gtest.h>

#include <string>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

constexpr auto kLogTimeout = std::chrono::seconds(5);

std::size_t occurrences(const std::string& text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(LinkLog, DebugTellsTheLinkComingAndGoing) {
  Cluster cluster({.nodes = 2, .args_by_node = {{"--log-level", "debug"}}});
  DaemonProcess& node = cluster.node(0);
  auto [a, b] = connect_one_per_node<2>(cluster);
  ASSERT_TRUE(settle_in_lobby({&a, &b}));
  EXPECT_TRUE(node.wait_for_stderr(": connected, claiming node id n1\n", kLogTimeout));
  EXPECT_TRUE(
      node.wait_for_stderr("link up: told the other nodes of this node's 0 clients, "
                           "waiting for theirs\n",
                           kLogTimeout));
  EXPECT_TRUE(node.wait_for_stderr("node n2 joined the link\n", kLogTimeout));
  EXPECT_TRUE(node.wait_for_stderr("link resynced: ", kLogTimeout));

  // a's node knows b (settled above): that is what it forgets.
  cluster.redis().stop();
  ASSERT_TRUE(a.client.skip_until_line(kLinkLost, kLostTimeout));
  EXPECT_TRUE(node.wait_for_stderr(
      "link down: forgetting 1 other node with 1 client until it is back\n", kLogTimeout))
      << node.stderr_text();

  cluster.redis().start();
  ASSERT_TRUE(a.client.skip_until_line(kLinkRestored, kRestoredTimeout));
  // A line of a's own after the restore: everything the node logged before it is in.
  const std::string old_name = a.name;
  ASSERT_TRUE(take_nickname(a, "alice", kCrossNodeTimeout));
  ASSERT_TRUE(node.wait_for_stderr("renamed from " + old_name + " to alice\n", kLogTimeout))
      << node.stderr_text();
  const std::string log = node.stderr_text();
  EXPECT_EQ(occurrences(log, "link up: told the other nodes of this node's 1 client, "), 1u) << log;
  EXPECT_EQ(occurrences(log, "link resynced: "), 2u) << log;

  // The other node, at the default level, says none of it.
  const std::string quiet = cluster.node(1).stderr_text();
  EXPECT_EQ(quiet.find("link up: told"), std::string::npos) << quiet;
  EXPECT_EQ(quiet.find("node n1 joined the link"), std::string::npos) << quiet;
}

}  // namespace
}  // namespace epollchat::test
