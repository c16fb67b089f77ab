// Redis unreachable when the nodes start: they serve anyway; a client connecting while the
// link is down gets the lost notice right after its welcome and chats locally; once Redis
// starts, every node tells its clients the link is restored and chat crosses nodes.
#include <gtest/gtest.h>

#include <iostream>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

TEST(RedisUnreachable, NodesServeLocallyUntilRedisStarts) {
  ClusterOptions options;
  options.redis.start = false;
  options.wait_for_link = false;
  Cluster cluster(options);
  // Every node has tried and failed at least once, so a client connecting now finds the
  // link down rather than still connecting.
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    ASSERT_TRUE(cluster.wait_for_status(node, kLinkDownStatus, 0));
  }

  // join() reads the welcome; the lost notice must be the very next line.
  std::vector<Member> members;
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    for (int number = 1; number <= 2; ++number) {
      members.push_back(join(cluster.port(node)));
      Member& member = members.back();
      // With the link configured, ids carry the node id even while it is down.
      EXPECT_EQ(member.name, client_name(Cluster::node_id(node), number));
      EXPECT_TRUE(member.client.expect_line(kLinkLost)) << member.name;
    }
    // The first member hears the second join, counted locally.
    EXPECT_TRUE(members[members.size() - 2].client.expect_line(joined(members.back().name, 2)));
  }

  for (std::size_t node = 0; node < cluster.size(); ++node) {
    Member& first = members[2 * node];
    Member& second = members[2 * node + 1];
    first.client.send("local only\n");
    EXPECT_TRUE(second.client.expect_line(says(first.name, "local only")));
    EXPECT_TRUE(expect_nothing_before_marker(second, first, "local marker", kReplyTimeout));
  }

  const auto started_at = Clock::now();
  cluster.redis().start();
  const Deadline deadline(kRestoredTimeout);
  for (Member& member : members) {
    EXPECT_TRUE(member.client.expect_line(kLinkRestored, deadline.remaining())) << member.name;
  }
  std::cout << "link up on every node " << elapsed_ms(started_at) << " ms after Redis started\n";
  for (std::size_t node = 0; node < cluster.size(); ++node) {
    EXPECT_TRUE(cluster.wait_for_status(node, link_up_status(cluster.size()), 0));
  }

  members[0].client.send("first words across nodes\n");
  for (std::size_t i = 1; i < members.size(); ++i) {
    EXPECT_TRUE(members[i].client.skip_until_line(says(members[0].name, "first words across nodes"),
                                                  kCrossNodeTimeout))
        << members[i].name;
  }
  std::vector<Member*> askers{&members[0], &members[2], &members[4]};
  EXPECT_TRUE(settle(askers, "*** Rooms: lobby (6)"));
}

}  // namespace
}  // namespace epollchat::test
