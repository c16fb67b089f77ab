// Nicknames are unique in the whole cluster, in any case, and free again once their owner
// renames or leaves; renames are announced on every node.
#include <gtest/gtest.h>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

class ClusterNick : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(settle_in_lobby({&a_, &b_, &c_})); }

  Cluster cluster_;
  Member a_ = join(cluster_.port(0));
  Member b_ = join(cluster_.port(1));
  Member c_ = join(cluster_.port(2));
};

TEST_F(ClusterNick, RenameIsAnnouncedOnEveryNode) {
  const std::string old_name = a_.name;
  ASSERT_TRUE(take_nickname(a_, "bob", kCrossNodeTimeout));
  EXPECT_TRUE(expect_line_at_each({&b_, &c_}, known_as(old_name, "bob"), kCrossNodeTimeout));
  a_.client.send("hi\n");
  EXPECT_TRUE(expect_line_at_each({&b_, &c_}, says("bob", "hi"), kCrossNodeTimeout));
}

TEST_F(ClusterNick, TakenOnAnotherNodeInAnyCase) {
  ASSERT_TRUE(take_nickname_seen_by(a_, "bob", {&b_, &c_}, kCrossNodeTimeout));

  b_.client.send("/nick bob\n");
  EXPECT_TRUE(b_.client.expect_line(nickname_taken("bob"), kCrossNodeTimeout));
  c_.client.send("/nick BOB\n");
  EXPECT_TRUE(c_.client.expect_line(nickname_taken("BOB"), kCrossNodeTimeout));
  c_.client.send("/nick Bob\n");
  EXPECT_TRUE(c_.client.expect_line(nickname_taken("Bob"), kCrossNodeTimeout));
  // A refused rename is announced nowhere: a's next line is c's marker.
  EXPECT_TRUE(expect_nothing_before_marker(c_, a_, "marker", kCrossNodeTimeout));
  EXPECT_TRUE(b_.client.expect_line(says(c_.name, "marker"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(b_, a_, "marker", kCrossNodeTimeout));
}

// The reply to a /nick: "*** You are now known as ..." or "*** Nickname ... is taken.",
// skipping any notice before it (the other claimant's rename may come first). Empty if none.
std::string nick_reply(Member& member) {
  return member.client
      .skip_until(
          [](std::string_view line) {
            return line.starts_with("*** You are now known as ") ||
                   line.starts_with("*** Nickname ");
          },
          kCrossNodeTimeout)
      .value_or("");
}

TEST_F(ClusterNick, SimultaneousClaimsOnTwoNodesGiveItToExactlyOne) {
  b_.client.send("/nick Carol\n");
  c_.client.send("/nick carol\n");
  const std::string b_reply = nick_reply(b_);
  const std::string c_reply = nick_reply(c_);
  const bool b_won = b_reply == "*** You are now known as Carol.";
  const bool c_won = c_reply == "*** You are now known as carol.";
  EXPECT_NE(b_won, c_won) << "b: " << b_reply << "\nc: " << c_reply;
  if (b_won) {
    EXPECT_EQ(c_reply, nickname_taken("carol"));
  }
  if (c_won) {
    EXPECT_EQ(b_reply, nickname_taken("Carol"));
  }
}

TEST_F(ClusterNick, FreeAgainAfterTheOwnerRenames) {
  ASSERT_TRUE(take_nickname_seen_by(a_, "bob", {&b_}, kCrossNodeTimeout));
  ASSERT_TRUE(take_nickname_seen_by(a_, "robert", {&b_}, kCrossNodeTimeout));
  const std::string b_old = b_.name;
  EXPECT_TRUE(take_nickname(b_, "Bob", kCrossNodeTimeout));
  EXPECT_TRUE(a_.client.skip_until_line(known_as(b_old, "Bob"), kCrossNodeTimeout));
}

TEST_F(ClusterNick, FreeAgainAfterTheOwnerLeaves) {
  ASSERT_TRUE(take_nickname_seen_by(a_, "bob", {&c_}, kCrossNodeTimeout));
  a_.client.close();
  ASSERT_TRUE(c_.client.expect_line(left("bob", 2), kCrossNodeTimeout));
  EXPECT_TRUE(take_nickname(c_, "bob", kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
