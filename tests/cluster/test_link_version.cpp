// A node of another link format is refused: what it publishes changes nothing a client sees
// (no join, no chat, no node more), each node logs one clear warning for it at most once a
// minute however much it sends, and the link between the nodes of the same format stays up.
// Its messages are published here by hand: a node of the previous format (1) speaks on
// epollchat:events, one of a later format (3) on the channels of this one.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"
#include "support/output_capture.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

constexpr std::string_view kFormatOneRefused =
    "refusing node n9: it speaks link format 1, this node speaks 2; "
    "run one epollchatd version on every node";
constexpr std::string_view kFormatThreeRefused =
    "refusing node n8: it speaks link format 3, this node speaks 2; "
    "run one epollchatd version on every node";
// Several rounds of what the refused node sends, all within the same minute.
constexpr int kRounds = 3;

struct Publication {
  std::string channel;
  std::string payload;
};

class LinkVersion : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(settle_in_lobby({&a_, &b_})); }

  // Publishes each message kRounds times; every node must receive each (both listen on
  // every channel used here).
  void publish_rounds(const std::vector<Publication>& messages) {
    for (int round = 0; round < kRounds; ++round) {
      for (const auto& [channel, payload] : messages) {
        EXPECT_EQ(cluster_.redis().command({"PUBLISH", channel, payload}, kCrossNodeTimeout), ":2")
            << channel << ": " << escape_bytes(payload);
      }
    }
  }

  // Each node logs `refusal` once, and its clients saw nothing: a line said on each node
  // after the publications, which reaches the other node after them on its subscription,
  // is the other member's next line; neither node counts a client or a node more.
  void expect_refused_once(std::string_view refusal, std::string_view node) {
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      EXPECT_TRUE(cluster_.node(i).wait_for_stderr(refusal, kCrossNodeTimeout))
          << cluster_.node(i).stderr_text();
    }
    EXPECT_TRUE(expect_nothing_before_marker(a_, b_, "after the refused node", kCrossNodeTimeout));
    EXPECT_TRUE(expect_nothing_before_marker(b_, a_, "after the refused node", kCrossNodeTimeout));
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      const std::string log = cluster_.node(i).stderr_text();
      EXPECT_EQ(count_of(log, refusal), 1u) << Cluster::node_id(i) << ":\n" << log;
    }
    for (Member* member : {&a_, &b_}) {
      member->client.send("/rooms\n");
      EXPECT_TRUE(member->client.expect_line(lobby_rooms_reply(2), kCrossNodeTimeout));
      EXPECT_TRUE(who_lists(*member, {a_.name, b_.name}, kCrossNodeTimeout));
      member->client.send("/msg #" + std::string(node) + ":1 anyone there?\n");
      EXPECT_TRUE(member->client.expect_line(no_such_user("#" + std::string(node) + ":1"),
                                             kCrossNodeTimeout));
    }
    // The link stayed up: still two nodes, and chat crosses.
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      EXPECT_EQ(count_of(cluster_.node(i).stderr_text(), "; chatting locally, retrying"), 0u);
    }
    a_.client.send("still linked\n");
    EXPECT_TRUE(b_.client.expect_line(says(a_.name, "still linked"), kCrossNodeTimeout));
  }

  Cluster cluster_{{.nodes = 2, .node_args = {"--history", "0"}}};
  Member a_ = join(cluster_.port(0));  // n1
  Member b_ = join(cluster_.port(1));  // n2
};

TEST_F(LinkVersion, ANodeOfThePreviousFormatIsRefusedOnceAMinute) {
  // Format 1 had no version in its header: "<kind> <instance> <node>".
  const std::string header = " 0123456789abcdef n9";
  publish_rounds({
      {"epollchat:events", "B" + header},
      {"epollchat:events", "J" + header + "\n1\nlobby\nClient #n9:1"},
      {"epollchat:events", "C" + header + "\n1\nlobby\nClient #n9:1\nhello from format 1"},
  });
  expect_refused_once(kFormatOneRefused, "n9");

  // The minute is kept per refused node: another old node within it is logged too.
  constexpr std::string_view kAnotherRefused =
      "refusing node n7: it speaks link format 1, this node speaks 2; "
      "run one epollchatd version on every node";
  publish_rounds({{"epollchat:events", "B 0123456789abcdef n7"}});
  for (std::size_t i = 0; i < cluster_.size(); ++i) {
    EXPECT_TRUE(cluster_.node(i).wait_for_stderr(kAnotherRefused, kCrossNodeTimeout))
        << cluster_.node(i).stderr_text();
  }
}

TEST_F(LinkVersion, ANodeOfALaterFormatIsRefusedOnEveryChannel) {
  const std::string header = " 0123456789abcdef n8";
  publish_rounds({
      {"epollchat:presence", "3 B" + header},
      {"epollchat:presence", "3 J" + header + "\n1\nlobby\nClient #n8:1"},
      {"epollchat:room:lobby", "3 C" + header + "\n1\nlobby\nClient #n8:1\nhello from format 3"},
  });
  expect_refused_once(kFormatThreeRefused, "n8");
}

// The heartbeats of n1 in what a subscription received: "2 B <16 hex digits> n1", each the
// whole payload of a message.
std::size_t beats_of_n1(std::string_view received) {
  constexpr std::string_view kHead = "\r\n2 B ";
  constexpr std::string_view kTail = " n1\r\n";
  constexpr std::size_t kInstance = 16;
  std::size_t beats = 0;
  for (auto at = received.find(kTail); at != std::string_view::npos;
       at = received.find(kTail, at + 1)) {
    if (at >= kHead.size() + kInstance &&
        received.substr(at - kInstance - kHead.size(), kHead.size()) == kHead) {
      ++beats;
    }
  }
  return beats;
}

TEST_F(LinkVersion, NodesOfThisFormatPublishNothingOnThePreviousChannel) {
  const UniqueFd previous = cluster_.redis().subscribe("epollchat:events", kReplyTimeout);
  ASSERT_TRUE(previous) << "could not subscribe to epollchat:events";
  const UniqueFd presence = cluster_.redis().subscribe("epollchat:presence", kReplyTimeout);
  ASSERT_TRUE(presence) << "could not subscribe to epollchat:presence";

  // Chat, a room, a rename and a whisper, and two heartbeats of n1 on the presence channel.
  a_.client.send("lobby line\n");
  ASSERT_TRUE(b_.client.expect_line(says(a_.name, "lobby line"), kCrossNodeTimeout));
  ASSERT_TRUE(join_room(b_, "dev", 1, kCrossNodeTimeout));
  ASSERT_TRUE(a_.client.expect_line(left(b_.name, 1), kCrossNodeTimeout));
  ASSERT_TRUE(take_nickname(b_, "bob", kCrossNodeTimeout));
  a_.client.send("/msg #n2:1 psst\n");
  ASSERT_TRUE(b_.client.expect_line(whispers(a_.name, "psst"), kCrossNodeTimeout));
  const Deadline deadline(kCrossNodeTimeout);
  // The first may have waited since the subscription.
  const auto two_beats = [](std::string_view received) { return beats_of_n1(received) >= 2; };
  ASSERT_TRUE(read_subscription(presence.get(), two_beats, deadline))
      << "no two heartbeats of n1 on epollchat:presence";

  // Everything the nodes published meanwhile came before this on the old channel.
  static constexpr std::string_view kSentinel = "nothing before this";
  ASSERT_EQ(cluster_.redis().command({"PUBLISH", "epollchat:events", std::string(kSentinel)},
                                     kCrossNodeTimeout),
            ":3");  // both nodes and this test
  const auto received = read_subscription(
      previous.get(),
      [](std::string_view so_far) { return so_far.find(kSentinel) != std::string_view::npos; },
      deadline);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(count_of(*received, "message\r\n"), 1u) << escape_bytes(*received, 2000);
}

}  // namespace
}  // namespace epollchat::test
