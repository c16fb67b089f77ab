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
    ASSERT_TRUE(take_nickname_seen_by(b_, "bob", {&a_, &c_, &d_}, kCrossNodeTimeout));
  }

  Cluster cluster_;
  // a and d on n1, b (later "bob") on n2, c on n3.
  Member a_ = join(cluster_.port(0));
  Member b_ = join(cluster_.port(1));
  Member c_ = join(cluster_.port(2));
  Member d_ = join(cluster_.port(0));
};

TEST_F(ClusterWho, ListsTheLobbyOfEveryNode) {
  const Names everyone{a_.name, "bob", c_.name, d_.name};
  for (Member* asker : {&a_, &b_, &c_, &d_}) {
    EXPECT_TRUE(who_lists(*asker, everyone, kCrossNodeTimeout));
  }
}

TEST_F(ClusterWho, ListsOnlyTheCurrentRoom) {
  ASSERT_TRUE(join_room(c_, "dev", 1, kCrossNodeTimeout));
  ASSERT_TRUE(expect_line_at_each({&a_, &b_}, left(c_.name, 3), kCrossNodeTimeout));
  ASSERT_TRUE(join_room(b_, "dev", 2, kCrossNodeTimeout));
  ASSERT_TRUE(a_.client.expect_line(left("bob", 2), kCrossNodeTimeout));
  ASSERT_TRUE(c_.client.expect_line(joined("bob", 2), kCrossNodeTimeout));

  for (Member* asker : {&b_, &c_}) {
    EXPECT_TRUE(who_lists(*asker, {"bob", c_.name}, kCrossNodeTimeout));
  }
  EXPECT_TRUE(who_lists(a_, {a_.name, d_.name}, kCrossNodeTimeout));
}

TEST_F(ClusterWho, ForgetsMembersWhoLeft) {
  c_.client.close();
  ASSERT_TRUE(expect_line_at_each({&a_, &b_}, left(c_.name, 3), kCrossNodeTimeout));
  for (Member* asker : {&a_, &b_}) {
    EXPECT_TRUE(who_lists(*asker, {a_.name, "bob", d_.name}, kCrossNodeTimeout));
  }
}

}  // namespace
}  // namespace epollchat::test
