// A nickname taken on two nodes while Redis was away: when the link is back, one client
// keeps it and the other is told it is taken and gets its "Client #..." name back, so the
// nickname is unique in the cluster again.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

// Reads `member`'s lines until the reply to its "/nick bob": true if it holds bob.
// The one that lost bob may have the refusal twice: when it lost the name, and now.
std::optional<bool> holds_bob_after_asking(Member& member) {
  member.client.send("/nick bob\n");
  const auto reply = member.client.skip_until(
      [](std::string_view line) {
        return line == "*** You are already known as bob." || line == nickname_taken("bob");
      },
      kCrossNodeTimeout);
  if (!reply) return std::nullopt;
  return *reply == "*** You are already known as bob.";
}

TEST(NickPartition, ANicknameTakenTwiceDuringAnOutageEndsWithOneHolder) {
  Cluster cluster({.nodes = 2});
  auto [a, b] = connect_one_per_node<2>(cluster);
  ASSERT_TRUE(settle_in_lobby({&a, &b}));

  cluster.redis().stop();
  ASSERT_TRUE(a.client.skip_until_line(kLinkLost, kLostTimeout));
  ASSERT_TRUE(b.client.skip_until_line(kLinkLost, kLostTimeout));
  // Each node can only check its own clients now: both get the name.
  a.client.send("/nick bob\n");
  ASSERT_TRUE(a.client.skip_until_line("*** You are now known as bob."));
  b.client.send("/nick bob\n");
  ASSERT_TRUE(b.client.skip_until_line("*** You are now known as bob."));

  cluster.redis().start();
  ASSERT_TRUE(a.client.skip_until_line(kLinkRestored, kRestoredTimeout));
  ASSERT_TRUE(b.client.skip_until_line(kLinkRestored, kRestoredTimeout));

  const auto a_holds = holds_bob_after_asking(a);
  const auto b_holds = holds_bob_after_asking(b);
  ASSERT_TRUE(a_holds.has_value());
  ASSERT_TRUE(b_holds.has_value());
  EXPECT_NE(*a_holds, *b_holds) << "exactly one of the two keeps bob";

  // The other is known by its id again, everywhere.
  Member& holder = *a_holds ? a : b;
  Member& loser = *a_holds ? b : a;
  holder.client.send("/who\n");
  // Local members first, then the other node's.
  EXPECT_TRUE(holder.client.skip_until_line(who_reply({"bob", loser.name}), kCrossNodeTimeout));
  loser.client.send("after the loss\n");
  EXPECT_TRUE(holder.client.skip_until_line(says(loser.name, "after the loss"), kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
