// A message on the Redis channel that carries a node's own node id but another instance token
// did not come from that node: it is a second process misconfigured with the same id, or a
// forgery. The node must ignore it (tell its clients nothing of it); only its own instance
// speaks for its node id there. The messages are published straight to the private Redis,
// followed by a marker from the other node along the same channel.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

// A token no running node holds (each draws 16 random hex digits at start).
constexpr std::string_view kForeignInstance = "0123456789abcdef";

TEST(InstanceToken, AMessageUnderThisNodesIdFromAnotherInstanceIsIgnored) {
  Cluster cluster({.nodes = 2});
  auto [here, there] = connect_one_per_node<2>(cluster);
  ASSERT_TRUE(settle_in_lobby({&here, &there}));

  // A join and a chat line of client 99 of node n1, the node `here` is on.
  const std::string header = std::string(" ") + std::string(kForeignInstance) + " " +
                             Cluster::node_id(0) + "\n99\nlobby\n";
  const std::pair<std::string, std::string> forged[] = {
      {"epollchat:presence", "2 J" + header + "mallory"},
      {"epollchat:room:lobby", "2 C" + header + "mallory\nforged under n1's node id"}};
  for (const auto& [channel, payload] : forged) {
    const std::string receivers =
        cluster.redis().command({"PUBLISH", channel, payload}, kCrossNodeTimeout);
    ASSERT_EQ(receivers, ":2") << "both nodes subscribe to " << channel;
  }
  // The marker crosses Redis after both forged messages and reaches `here` through the same
  // subscription: anything delivered of them would come first.
  ASSERT_TRUE(expect_nothing_before_marker(there, here, "marker", kCrossNodeTimeout));
  const auto who = query_who(here, kCrossNodeTimeout);
  EXPECT_EQ(who.names, (std::multiset<std::string>{here.name, there.name}))
      << "/who on node " << Cluster::node_id(0) << " counts " << who.count;
}

}  // namespace
}  // namespace epollchat::test
