// /who lists the members of the asker's current room on every node, and only them.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace cluster_lines;
using Names = std::multiset<std::string>;

class ClusterWho : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(settle({&a_, &b_, &c_, &d_}, "*** Rooms: lobby (4)"));
    const std::string old_name = b_.name;
    ASSERT_TRUE(take_nickname(b_, "bob"));
    for (ClusterMember* other : {&a_, &c_, &d_}) {
      ASSERT_TRUE(other->client.expect_line(known_as(old_name, "bob"), kCrossNodeTimeout));
    }
  }

  Cluster cluster_;
  // a and d on n1, b (later "bob") on n2, c on n3.
  ClusterMember a_ = connect_member(cluster_.port(0));
  ClusterMember b_ = connect_member(cluster_.port(1));
  ClusterMember c_ = connect_member(cluster_.port(2));
  ClusterMember d_ = connect_member(cluster_.port(0));
};

TEST_F(ClusterWho, ListsTheLobbyOfEveryNode) {
  const Names everyone{a_.name, "bob", c_.name, d_.name};
  for (ClusterMember* asker : {&a_, &b_, &c_, &d_}) {
    const WhoReply who = query_who(*asker);
    EXPECT_EQ(who.count, 4) << asker->name;
    EXPECT_EQ(who.names, everyone) << asker->name;
  }
}

TEST_F(ClusterWho, ListsOnlyTheCurrentRoom) {
  c_.client.send("/join dev\n");
  ASSERT_TRUE(c_.client.expect_line(now_in("dev", 1), kCrossNodeTimeout));
  ASSERT_TRUE(a_.client.expect_line(left(c_.name, 3), kCrossNodeTimeout));
  ASSERT_TRUE(b_.client.expect_line(left(c_.name, 3), kCrossNodeTimeout));
  b_.client.send("/join dev\n");
  ASSERT_TRUE(b_.client.expect_line(now_in("dev", 2), kCrossNodeTimeout));
  ASSERT_TRUE(a_.client.expect_line(left("bob", 2), kCrossNodeTimeout));
  ASSERT_TRUE(c_.client.expect_line(joined("bob", 2), kCrossNodeTimeout));

  for (ClusterMember* asker : {&b_, &c_}) {
    const WhoReply who = query_who(*asker);
    EXPECT_EQ(who.count, 2) << asker->name;
    EXPECT_EQ(who.names, (Names{"bob", c_.name})) << asker->name;
  }
  const WhoReply lobby = query_who(a_);
  EXPECT_EQ(lobby.count, 2);
  EXPECT_EQ(lobby.names, (Names{a_.name, d_.name}));
}

TEST_F(ClusterWho, ForgetsMembersWhoLeft) {
  c_.client.close();
  ASSERT_TRUE(a_.client.expect_line(left(c_.name, 3), kCrossNodeTimeout));
  ASSERT_TRUE(b_.client.expect_line(left(c_.name, 3), kCrossNodeTimeout));
  for (ClusterMember* asker : {&a_, &b_}) {
    const WhoReply who = query_who(*asker);
    EXPECT_EQ(who.count, 3) << asker->name;
    EXPECT_EQ(who.names, (Names{a_.name, "bob", d_.name})) << asker->name;
  }
}

}  // namespace
}  // namespace epollchat::test
