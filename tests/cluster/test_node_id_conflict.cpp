// Node ids are exclusive: a second epollchatd started with a node id that a running node
// holds stays off the link and says why, while the cluster goes on unaffected; once the
// holder is gone (SIGTERM: its goodbye frees the id) the newcomer joins, and chat crosses.
#include <gtest/gtest.h>

#include <csignal>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

TEST(NodeIdConflict, SecondNodeWithTheSameIdWaitsUntilTheFirstIsGone) {
  Cluster cluster({.nodes = 2});
  Member holder_member = join(cluster.port(0));
  Member other_member = join(cluster.port(1));

  DaemonProcess newcomer(DaemonOptions::with_args(
      {"--redis", cluster.redis().address(), "--node-id", Cluster::node_id(0)}));
  const std::string refusal = "node id " + Cluster::node_id(0) + " is held by another running";
  ASSERT_TRUE(newcomer.wait_for_stderr(refusal, kLinkTimeout)) << newcomer.stderr_text();
  ASSERT_TRUE(wait_for_status(newcomer, kLinkDownStatus));

  // Its client is told the link is down; the cluster counts neither it nor its client.
  Member newcomer_member = join(newcomer.port());
  EXPECT_EQ(newcomer_member.name, client_name(Cluster::node_id(0), 1));
  EXPECT_TRUE(newcomer_member.client.expect_line(kLinkLost));
  EXPECT_TRUE(settle({&holder_member, &other_member}, "*** Rooms: lobby (2)"));
  holder_member.client.send("still one chat\n");
  EXPECT_TRUE(other_member.client.expect_line(says(holder_member.name, "still one chat"),
                                              kCrossNodeTimeout));
  const std::size_t other_mark = cluster.status_mark(1);
  EXPECT_TRUE(cluster.wait_for_status(1, link_up_status(2), 0));

  // The holder stops; the newcomer takes the id, joins, and chat crosses to it.
  cluster.node(0).send_signal(SIGTERM);
  ASSERT_TRUE(cluster.node(0).wait_exit(std::chrono::seconds(10)));
  EXPECT_TRUE(newcomer_member.client.skip_until_line(kLinkRestored, kRestoredTimeout));
  EXPECT_TRUE(cluster.wait_for_status(1, link_up_status(2), other_mark));
  EXPECT_TRUE(settle({&newcomer_member, &other_member}, "*** Rooms: lobby (2)"));
  other_member.client.send("welcome aboard\n");
  EXPECT_TRUE(newcomer_member.client.skip_until_line(says(other_member.name, "welcome aboard"),
                                                     kCrossNodeTimeout));
  newcomer_member.client.send("glad to be here\n");
  EXPECT_TRUE(other_member.client.skip_until_line(says(newcomer_member.name, "glad to be here"),
                                                  kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
