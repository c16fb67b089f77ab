// A node that dies (SIGKILL: no goodbye) is forgotten within the presence TTL: its users'
// leave notices reach the other nodes within 10 s, and the rest of the cluster chats on.
// A node stopped with SIGTERM says goodbye itself, at once.
#include <gtest/gtest.h>

#include <csignal>
#include <iostream>
#include <set>
#include <string>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;
using Names = std::multiset<std::string>;

// epollchatd(8): heartbeat 1 s, node TTL 5 s; tests allow 10 s.
constexpr std::chrono::milliseconds kDeadNodeTimeout{std::chrono::seconds(10)};
// A node stopped with SIGTERM announces its users' departure "at once": well inside the
// TTL, so this cannot pass by way of the expiry.
constexpr std::chrono::milliseconds kGoodbyeTimeout{std::chrono::seconds(3)};

class ClusterNodeFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(settle_in_lobby({&a_, &b_, &c_, &d_}));
    ASSERT_TRUE(take_nickname_seen_by(d_, "dora", {&a_, &b_, &c_}, kCrossNodeTimeout));
  }

  // Reads `member`'s next two lines: the leave notices of c and dora (n3's users), in either
  // order, within `timeout`; as for any two departures, the count falls 3 then 2.
  void expect_n3_users_left(Member& member, std::chrono::milliseconds timeout) {
    const Deadline deadline(timeout);
    const auto first = member.client.read_line(deadline.remaining());
    ASSERT_TRUE(first) << member.name << ": no leave notice within " << timeout.count() << " ms";
    const auto second = member.client.read_line(deadline.remaining());
    ASSERT_TRUE(second) << member.name << ": one leave notice within " << timeout.count()
                        << " ms, not two: " << *first;
    const auto who_left = [](const std::string& line) {
      const auto end = line.find(" left (");
      return line.starts_with("*** ") && end != std::string::npos ? line.substr(4, end - 4)
                                                                  : std::string();
    };
    ASSERT_EQ((Names{who_left(*first), who_left(*second)}), (Names{c_.name, "dora"}))
        << member.name << " got:\n  " << *first << "\n  " << *second;
    EXPECT_EQ(*first, left(who_left(*first), 3)) << member.name;
    EXPECT_EQ(*second, left(who_left(*second), 2)) << member.name;
  }

  Cluster cluster_;
  // a on n1, b on n2, c and d (later "dora") on n3.
  Member a_ = join(cluster_.port(0));
  Member b_ = join(cluster_.port(1));
  Member c_ = join(cluster_.port(2));
  Member d_ = join(cluster_.port(2));
};

TEST_F(ClusterNodeFailure, KilledNodesUsersLeaveEverywhereWithinTenSeconds) {
  const auto killed_at = Clock::now();
  cluster_.kill_node(2);
  expect_n3_users_left(a_, kDeadNodeTimeout);
  expect_n3_users_left(
      b_, kDeadNodeTimeout - std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at));
  std::cout << "leave notices of the killed node's users after " << elapsed_ms(killed_at)
            << " ms\n";

  // The survivors chat on and count only themselves.
  a_.client.send("still here\n");
  EXPECT_TRUE(b_.client.expect_line(says(a_.name, "still here"), kCrossNodeTimeout));
  EXPECT_TRUE(who_lists(b_, {a_.name, b_.name}, kCrossNodeTimeout));
  // epollchatd(8): "the nicknames of a node that died are free again within 5 s"; its node
  // key expires with the TTL that also made the others forget its users.
  EXPECT_TRUE(take_nickname(b_, "dora", kCrossNodeTimeout));
}

TEST_F(ClusterNodeFailure, StoppedNodesUsersLeaveEverywhereAtOnce) {
  cluster_.node(2).send_signal(SIGTERM);
  EXPECT_TRUE(c_.client.skip_until_line("*** Server shutting down.", kCrossNodeTimeout));
  expect_n3_users_left(a_, kGoodbyeTimeout);
  expect_n3_users_left(b_, kGoodbyeTimeout);
  ASSERT_TRUE(cluster_.node(2).wait_exit(kCrossNodeTimeout));
  a_.client.send("still here\n");
  EXPECT_TRUE(b_.client.expect_line(says(a_.name, "still here"), kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
