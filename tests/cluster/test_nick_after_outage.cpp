// Nicknames given up while the link was down are free on the other nodes soon after the link
// returns. While Redis is stuck and the nodes have declared the link lost, the holder of
// `bob` leaves and the holder of `dave` renames itself `carol`; their node could not tell
// Redis then. Once the link is restored, `bob` and `dave` must be free on the other node
// within seconds, not only when their 60 s claims in Redis run out.
#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <utility>

#include "cluster/link_faults.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

TEST(NickAfterOutage, NamesGivenUpWhileTheLinkWasDownAreFreeSoonAfterItReturns) {
  Cluster cluster({.nodes = 2});
  PairsOnEveryNode pairs(cluster);
  Member& leaver = pairs.first(0);
  Member& renamer = pairs.second(0);
  Member& there = pairs.first(1);
  Member& also_there = pairs.second(1);
  Member watcher = join(cluster.port(0));
  ASSERT_TRUE(settle_in_lobby({&leaver, &renamer, &watcher, &there, &also_there}));
  ASSERT_TRUE(take_nickname_seen_by(leaver, "bob", {&there}, kCrossNodeTimeout));
  ASSERT_TRUE(take_nickname_seen_by(renamer, "dave", {&there}, kCrossNodeTimeout));

  const auto paused_at = Clock::now();
  cluster.redis().pause();
  // Both nodes, so that both tell their members when the link is back.
  ASSERT_TRUE(watcher.client.skip_until_line(kLinkLost, kLostTimeout));
  ASSERT_TRUE(there.client.skip_until_line(kLinkLost, kLostTimeout));
  std::cout << "the link was lost " << elapsed_ms(paused_at) << " ms after SIGSTOP\n";
  leaver.client.close();
  // While the link is down, counts are local.
  ASSERT_TRUE(watcher.client.skip_until_line(left("bob", 2)));
  ASSERT_TRUE(take_nickname(renamer, "carol", kCrossNodeTimeout));
  ASSERT_TRUE(watcher.client.skip_until_line(known_as("dave", "carol")));
  cluster.redis().resume();
  const auto resumed_at = Clock::now();
  ASSERT_TRUE(watcher.client.skip_until_line(kLinkRestored, kRestoredTimeout));
  ASSERT_TRUE(there.client.skip_until_line(kLinkRestored, kRestoredTimeout));
  const auto restored_at = Clock::now();
  std::cout << "the link was restored " << elapsed_ms(resumed_at) << " ms after SIGCONT\n";

  for (const auto& [member, nickname] : {std::pair{&there, "bob"}, {&also_there, "dave"}}) {
    const auto taken = wait_for_nickname(*member, nickname, kCrossNodeTimeout);
    EXPECT_TRUE(taken);
    std::cout << nickname << (taken ? " was free" : " was still taken") << " on the other node "
              << elapsed_ms(restored_at) << " ms after the link was restored\n";
  }
  // carol stays with the member who took it.
  EXPECT_EQ(try_nickname(also_there, "carol", kCrossNodeTimeout), std::optional<bool>(false));
}

}  // namespace
}  // namespace epollchat::test
