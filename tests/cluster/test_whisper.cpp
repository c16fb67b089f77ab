// /msg across nodes: to a nickname or to a `#node:n` id, in any room, reaching only its
// target.
#include <gtest/gtest.h>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

class ClusterWhisper : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(settle_in_lobby({&a_, &b_, &c_}));
    ASSERT_TRUE(take_nickname_seen_by(b_, "bob", {&a_, &c_}, kCrossNodeTimeout));
  }

  Cluster cluster_;
  Member a_ = join(cluster_.port(0));  // n1
  Member b_ = join(cluster_.port(1));  // n2, "bob"
  Member c_ = join(cluster_.port(2));  // n3, #n3:1
};

TEST_F(ClusterWhisper, ToANicknameOnAnotherNode) {
  a_.client.send("/msg BOB psst, bob\n");
  EXPECT_TRUE(b_.client.expect_line(whispers(a_.name, "psst, bob"), kCrossNodeTimeout));
  EXPECT_TRUE(a_.client.expect_line(sent_to("bob"), kCrossNodeTimeout));
  // c did not hear it: a's next line to the lobby takes the whisper's way n1 -> Redis -> n3.
  EXPECT_TRUE(expect_nothing_before_marker(a_, c_, "marker", kCrossNodeTimeout));
  EXPECT_TRUE(b_.client.expect_line(says(a_.name, "marker"), kCrossNodeTimeout));
}

TEST_F(ClusterWhisper, ToAnIdOnAnotherNode) {
  ASSERT_EQ(c_.name, client_name("n3", 1));
  b_.client.send("/msg #n3:1 hello n3\n");
  EXPECT_TRUE(c_.client.expect_line(whispers("bob", "hello n3"), kCrossNodeTimeout));
  EXPECT_TRUE(b_.client.expect_line(sent_to(c_.name), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(b_, a_, "marker", kCrossNodeTimeout));
  EXPECT_TRUE(c_.client.expect_line(says("bob", "marker"), kCrossNodeTimeout));
}

TEST_F(ClusterWhisper, ReachesAnotherRoomOnAnotherNode) {
  ASSERT_TRUE(join_room(c_, "dev", 1, kCrossNodeTimeout));
  ASSERT_TRUE(expect_line_at_each({&a_, &b_}, left(c_.name, 2), kCrossNodeTimeout));
  a_.client.send("/msg #n3:1 across rooms\n");
  EXPECT_TRUE(c_.client.expect_line(whispers(a_.name, "across rooms"), kCrossNodeTimeout));
  EXPECT_TRUE(a_.client.expect_line(sent_to(c_.name), kCrossNodeTimeout));
  c_.client.send("/msg bob from dev\n");
  EXPECT_TRUE(b_.client.expect_line(whispers(c_.name, "from dev"), kCrossNodeTimeout));
  EXPECT_TRUE(c_.client.expect_line(sent_to("bob"), kCrossNodeTimeout));
}

TEST_F(ClusterWhisper, UnknownTargetsAreRefused) {
  b_.client.send("/msg #n9:1 hi\n/msg #n3:99 hi\n/msg nobody hi\n");
  EXPECT_TRUE(b_.client.expect_line("*** No such user #n9:1.", kCrossNodeTimeout));
  EXPECT_TRUE(b_.client.expect_line("*** No such user #n3:99.", kCrossNodeTimeout));
  EXPECT_TRUE(b_.client.expect_line("*** No such user nobody.", kCrossNodeTimeout));
  c_.client.close();
  ASSERT_TRUE(b_.client.expect_line(left(c_.name, 2), kCrossNodeTimeout));
  b_.client.send("/msg #n3:1 still there?\n");
  EXPECT_TRUE(b_.client.expect_line("*** No such user #n3:1.", kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
