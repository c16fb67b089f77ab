// /who lists the members of the asker's current room on every node, and only them.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;
using Names = std::multiset<std::string>;

class ClusterWho : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(settle_in_lobby({&a_, &b_, &c_, &d_}));
    ASSERT_TRUE(take_nickname_seen_by(b_, "bob", {&a_, &c_, &d_}));
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
    EXPECT_TRUE(who_lists(*asker, everyone));
  }
}

TEST_F(ClusterWho, ListsOnlyTheCurrentRoom) {
  ASSERT_TRUE(join_room(c_, "dev", 1));
  ASSERT_TRUE(expect_line_at_each({&a_, &b_}, left(c_.name, 3)));
  ASSERT_TRUE(join_room(b_, "dev", 2));
  ASSERT_TRUE(a_.client.expect_line(left("bob", 2), kCrossNodeTimeout));
  ASSERT_TRUE(c_.client.expect_line(joined("bob", 2), kCrossNodeTimeout));

  for (ClusterMember* asker : {&b_, &c_}) {
    EXPECT_TRUE(who_lists(*asker, {"bob", c_.name}));
  }
  EXPECT_TRUE(who_lists(a_, {a_.name, d_.name}));
}

TEST_F(ClusterWho, ForgetsMembersWhoLeft) {
  c_.client.close();
  ASSERT_TRUE(expect_line_at_each({&a_, &b_}, left(c_.name, 3)));
  for (ClusterMember* asker : {&a_, &b_}) {
    EXPECT_TRUE(who_lists(*asker, {a_.name, "bob", d_.name}));
  }
}

}  // namespace
}  // namespace epollchat::test
