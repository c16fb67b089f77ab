// Rooms across nodes: members of a joined room chat there and nowhere else, /rooms counts
// the whole cluster, /part brings a member back to the lobby.
#include <gtest/gtest.h>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

class ClusterRooms : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(settle({&a_, &b_, &c_, &d_}, "*** Rooms: lobby (4)")); }

  Cluster cluster_;
  // a on n1 and b on n2 go to dev; c on n3 and d on n1 stay in the lobby.
  Member a_ = join(cluster_.port(0));
  Member b_ = join(cluster_.port(1));
  Member c_ = join(cluster_.port(2));
  Member d_ = join(cluster_.port(0));

  // a, then b, join dev; each move is seen by everyone concerned before the next step, so
  // every node agrees on who is where.
  ::testing::AssertionResult move_a_and_b_to_dev() {
    a_.client.send("/join Dev\n");  // room names are case-insensitive, shown in lower case
    if (auto moved = a_.client.expect_line(now_in("dev", 1), kCrossNodeTimeout); !moved) {
      return moved;
    }
    for (Member* lobby : {&b_, &c_, &d_}) {
      if (auto seen = lobby->client.expect_line(left(a_.name, 3), kCrossNodeTimeout); !seen) {
        return seen << " (" << lobby->name << ")";
      }
    }
    b_.client.send("/join dev\n");
    if (auto moved = b_.client.expect_line(now_in("dev", 2), kCrossNodeTimeout); !moved) {
      return moved;
    }
    if (auto seen = a_.client.expect_line(joined(b_.name, 2), kCrossNodeTimeout); !seen) {
      return seen << " (" << a_.name << ")";
    }
    for (Member* lobby : {&c_, &d_}) {
      if (auto seen = lobby->client.expect_line(left(b_.name, 2), kCrossNodeTimeout); !seen) {
        return seen << " (" << lobby->name << ")";
      }
    }
    return ::testing::AssertionSuccess();
  }
};

TEST_F(ClusterRooms, MembersOnTwoNodesChatInDevAndTheLobbyHearsNothing) {
  ASSERT_TRUE(move_a_and_b_to_dev());

  a_.client.send("dev talk from n1\n");
  EXPECT_TRUE(b_.client.expect_line(says(a_.name, "dev talk from n1"), kCrossNodeTimeout));
  b_.client.send("/me nods in dev\n");
  EXPECT_TRUE(a_.client.expect_line(action(b_.name, "nods in dev"), kCrossNodeTimeout));

  // c (n3, lobby) hears neither: both dev lines reached Redis before d (n1, lobby) says a
  // lobby line (each was seen by its receiver first), so on n3's subscription they come
  // before d's line, and c's next line is d's.
  d_.client.send("lobby line\n");
  EXPECT_TRUE(c_.client.expect_line(says(d_.name, "lobby line"), kCrossNodeTimeout));
  // d (n1, a's own node) hears neither: a's line is local to n1, and b's action reached n1
  // before c's marker, which c sends only now.
  EXPECT_TRUE(expect_nothing_before_marker(c_, d_, "lobby marker", kCrossNodeTimeout));
  // And dev heard nothing of the lobby: both lobby lines went through Redis before each dev
  // marker below, so a's and b's next lines are each other's markers.
  EXPECT_TRUE(expect_nothing_before_marker(b_, a_, "dev marker", kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(a_, b_, "dev marker", kCrossNodeTimeout));
}

TEST_F(ClusterRooms, RoomsListsEveryRoomWithClusterWideCounts) {
  ASSERT_TRUE(move_a_and_b_to_dev());
  for (Member* member : {&a_, &b_, &c_, &d_}) {
    const Deadline deadline(kCrossNodeTimeout);
    EXPECT_EQ(query_rooms(*member, deadline), "*** Rooms: lobby (2), dev (2)") << member->name;
  }
  // A third room sorts by name; the lobby stays first whatever its name's order.
  c_.client.send("/join alpha\n");
  ASSERT_TRUE(c_.client.expect_line(now_in("alpha", 1), kCrossNodeTimeout));
  ASSERT_TRUE(d_.client.expect_line(left(c_.name, 1), kCrossNodeTimeout));
  const Deadline deadline(kCrossNodeTimeout);
  EXPECT_EQ(query_rooms(a_, deadline), "*** Rooms: lobby (1), alpha (1), dev (2)");
}

TEST_F(ClusterRooms, PartReturnsToTheLobbyOnEveryNode) {
  ASSERT_TRUE(move_a_and_b_to_dev());

  b_.client.send("/part\n");
  EXPECT_TRUE(b_.client.expect_line(now_in("lobby", 3), kCrossNodeTimeout));
  EXPECT_TRUE(a_.client.expect_line(left(b_.name, 1), kCrossNodeTimeout));
  EXPECT_TRUE(c_.client.expect_line(joined(b_.name, 3), kCrossNodeTimeout));
  EXPECT_TRUE(d_.client.expect_line(joined(b_.name, 3), kCrossNodeTimeout));

  b_.client.send("back in the lobby\n");
  EXPECT_TRUE(c_.client.expect_line(says(b_.name, "back in the lobby"), kCrossNodeTimeout));
  EXPECT_TRUE(d_.client.expect_line(says(b_.name, "back in the lobby"), kCrossNodeTimeout));
  // a (dev, n1) did not hear it: b's next event takes the same way n2 -> Redis -> n1, and
  // it is the first thing a hears.
  b_.client.send("/join dev\n");
  EXPECT_TRUE(b_.client.expect_line(now_in("dev", 2), kCrossNodeTimeout));
  EXPECT_TRUE(a_.client.expect_line(joined(b_.name, 2), kCrossNodeTimeout));

  a_.client.send("/part\n");
  EXPECT_TRUE(a_.client.expect_line(now_in("lobby", 3), kCrossNodeTimeout));
  // n1's lobby kept what d heard there while a was away: b's line.
  EXPECT_TRUE(a_.client.expect_line(kHistoryStart));
  const auto kept = a_.client.read_line();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(strip_history_time(*kept).value_or(*kept), says(b_.name, "back in the lobby"));
  EXPECT_TRUE(a_.client.expect_line(kHistoryEnd));
  a_.client.send("/part\n");
  EXPECT_TRUE(a_.client.expect_line(already_in("lobby")));
}

}  // namespace
}  // namespace epollchat::test
