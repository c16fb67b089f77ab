// A channel per room: a node receives a room's lines only while it has members there (PUBSUB
// NUMSUB epollchat:room:ROOM counts the nodes that do), and chat, counts, /who and whispers
// still cross nodes. A member who enters a room while its lines are in flight gets each of a
// sender's lines once, without a gap after the first one, and every line said after the
// sender saw the join notice.
#include <gtest/gtest.h>

#include <charconv>
#include <iostream>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

// Without history a joiner's first lines are live ones, which is what these tests read.
const std::vector<std::string> kNoHistory = {"--history", "0"};

std::string room_channel(std::string_view room) { return "epollchat:room:" + std::string(room); }

// PUBSUB NUMSUB of one channel: the number of nodes subscribed to it, or -1 without a reply.
int subscribers(const RedisServer& redis, const std::string& channel) {
  // "*2", "$N", the channel, ":K".
  const auto reply = redis.command_lines({"PUBSUB", "NUMSUB", channel}, 4, kCrossNodeTimeout);
  if (reply.size() != 4 || !reply[3].starts_with(':')) return -1;
  int count = -1;
  const auto [end, error] =
      std::from_chars(reply[3].data() + 1, reply[3].data() + reply[3].size(), count);
  return error == std::errc{} && end == reply[3].data() + reply[3].size() ? count : -1;
}

// An unsubscribe has no notice anyone could wait for: asks Redis again every 20 ms until the
// channel has `expected` subscribers.
::testing::AssertionResult wait_for_subscribers(const RedisServer& redis,
                                                const std::string& channel, int expected) {
  const Deadline deadline(kSettleTimeout);
  int last = subscribers(redis, channel);
  while (last != expected && !deadline.has_expired()) {
    std::this_thread::sleep_for(20ms);
    last = subscribers(redis, channel);
  }
  if (last == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << channel << " still has " << last << " subscribers after "
                                       << kSettleTimeout.count() << " ms, expected " << expected;
}

// Members on 3 nodes: a1 and a2 on n1, b on n2, c on n3. dev is taken to n1 by a1, then to
// n2 by b; a2 and c stay in the lobby throughout.
TEST(RoomChannels, ANodeReceivesARoomOnlyWhileItHasMembersThere) {
  Cluster cluster({.node_args = kNoHistory});
  const RedisServer& redis = cluster.redis();
  // No node receives even the lobby before someone is there.
  EXPECT_EQ(subscribers(redis, room_channel("lobby")), 0);
  Member a1 = join(cluster.port(0));
  Member a2 = join(cluster.port(0));
  Member b = join(cluster.port(1));
  Member c = join(cluster.port(2));
  ASSERT_TRUE(settle_in_lobby({&a1, &a2, &b, &c}));
  EXPECT_EQ(subscribers(redis, room_channel("lobby")), 3);
  EXPECT_EQ(subscribers(redis, room_channel("dev")), 0);

  // a1 takes dev to n1. n1 publishes the join only once Redis confirmed its subscription, so
  // once b's and c's nodes count a1 in dev, n1 receives dev.
  a1.client.send("/join Dev\n");  // rooms travel in lower case, whatever the member typed
  ASSERT_TRUE(a1.client.expect_line(now_in("dev", 1), kCrossNodeTimeout));
  ASSERT_TRUE(expect_line_at_each({&a2, &b, &c}, left(a1.name, 3), kCrossNodeTimeout));
  ASSERT_TRUE(settle({&b, &c}, rooms_reply({{"lobby", 3}, {"dev", 1}})));
  EXPECT_EQ(subscribers(redis, room_channel("dev")), 1);

  // a1's dev line reaches no one, not even a2 on its own node: a2's marker is the next line
  // of b and c (it left n1 after a1's line), and a2's next line is b's marker.
  a1.client.send("only n1 hosts dev\n");
  EXPECT_TRUE(a1.client.expect_line(kAlone, kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(a2, b, "lobby marker", kCrossNodeTimeout));
  EXPECT_TRUE(c.client.expect_line(says(a2.name, "lobby marker"), kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(b, a2, "lobby marker 2", kCrossNodeTimeout));
  EXPECT_TRUE(c.client.expect_line(says(b.name, "lobby marker 2"), kCrossNodeTimeout));

  // b takes dev to n2 too: a1 sees the join notice, which n2 published only once it receives
  // dev. n2 has no lobby member left, so it lets the lobby go.
  ASSERT_TRUE(join_room(b, "dev", 2, kCrossNodeTimeout));
  ASSERT_TRUE(a1.client.expect_line(joined(b.name, 2), kCrossNodeTimeout));
  ASSERT_TRUE(expect_line_at_each({&a2, &c}, left(b.name, 2), kCrossNodeTimeout));
  EXPECT_EQ(subscribers(redis, room_channel("dev")), 2);
  EXPECT_TRUE(wait_for_subscribers(redis, room_channel("lobby"), 2));

  // Chat in dev reaches the other node both ways.
  a1.client.send("from n1\n");
  EXPECT_TRUE(b.client.expect_line(says(a1.name, "from n1"), kCrossNodeTimeout));
  b.client.send("from n2\n");
  EXPECT_TRUE(a1.client.expect_line(says(b.name, "from n2"), kCrossNodeTimeout));
  b.client.send("/me waves from n2\n");
  EXPECT_TRUE(a1.client.expect_line(action(b.name, "waves from n2"), kCrossNodeTimeout));
  // Neither reached the lobby, on n1 (a2) or n3 (c): both were seen before these markers.
  EXPECT_TRUE(expect_nothing_before_marker(c, a2, "lobby marker 3", kCrossNodeTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(a2, c, "lobby marker 4", kCrossNodeTimeout));

  // n3 receives nothing of dev, yet counts its members, and /who in dev lists both nodes:
  // presence reaches every node.
  EXPECT_EQ(subscribers(redis, room_channel("dev")), 2);
  const Deadline deadline(kCrossNodeTimeout);
  EXPECT_EQ(query_rooms(c, deadline), rooms_reply({{"lobby", 2}, {"dev", 2}}));
  EXPECT_TRUE(who_lists(b, {a1.name, b.name}, kCrossNodeTimeout));

  // b goes back to the lobby: n2 receives the lobby again (published after, as above) and
  // lets dev go.
  b.client.send("/part\n");
  ASSERT_TRUE(b.client.expect_line(now_in("lobby", 3), kCrossNodeTimeout));
  ASSERT_TRUE(a1.client.expect_line(left(b.name, 1), kCrossNodeTimeout));
  ASSERT_TRUE(expect_line_at_each({&a2, &c}, joined(b.name, 3), kCrossNodeTimeout));
  EXPECT_EQ(subscribers(redis, room_channel("lobby")), 3);
  EXPECT_TRUE(wait_for_subscribers(redis, room_channel("dev"), 1));

  // The last member of dev leaves: no node receives it any more.
  a1.client.send("/part\n");
  ASSERT_TRUE(a1.client.expect_line(now_in("lobby", 4), kCrossNodeTimeout));
  ASSERT_TRUE(expect_line_at_each({&a2, &b, &c}, joined(a1.name, 4), kCrossNodeTimeout));
  EXPECT_TRUE(wait_for_subscribers(redis, room_channel("dev"), 0));
  EXPECT_EQ(subscribers(redis, room_channel("lobby")), 3);
}

// The number a flood line carries, if `line` is one of `sender`'s.
std::optional<int> flood_number(std::string_view line, std::string_view sender) {
  const std::string prefix = says(sender, "");
  if (!line.starts_with(prefix)) return std::nullopt;
  line.remove_prefix(prefix.size());
  int number = -1;
  const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), number);
  if (error != std::errc{} || end != line.data() + line.size()) return std::nullopt;
  return number;
}

// The sender of numbered lines ("0", "1", ...) into its room, on a thread of its own, that
// notes for each join notice of `joiner` it reads the number of the first line it sends
// after it: that line and every later one must reach the joiner while it stays.
class Flood {
 public:
  Flood(Member& sender, std::string joiner)
      : sender_(sender),
        joined_notice_(joined(joiner, 2)),
        thread_([this](std::stop_token stop) { run(stop); }) {}
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;

  // The first number sent after the sender read the join notice number `stint` (0-based).
  [[nodiscard]] std::optional<int> sent_after_join(std::size_t stint) {
    const std::lock_guard lock(mutex_);
    return stint < sent_after_join_.size() ? std::optional(sent_after_join_[stint]) : std::nullopt;
  }
  [[nodiscard]] std::string error() {
    const std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  // Two lines every 200 us or so, and the notices read in between without waiting for them:
  // a pace of its own, not woken by the join notice, so that lines are on their way across
  // every edge; several thousand a second, which the nodes (told not to hold any client
  // back by --max-rate 0) carry without a backlog.
  void run(const std::stop_token& stop) {
    constexpr int kBatch = 2;
    int next = 0;
    try {
      while (!stop.stop_requested()) {
        std::string batch;
        for (int i = 0; i < kBatch; ++i) batch += std::to_string(next++) + "\n";
        sender_.client.send(batch, kCrossNodeTimeout);
        std::this_thread::sleep_for(200us);
        const bool open = sender_.client.receive_available();
        while (const auto line = sender_.client.take_buffered_line()) {
          if (*line != joined_notice_) continue;
          const std::lock_guard lock(mutex_);
          sent_after_join_.push_back(next);
        }
        if (!open) throw std::runtime_error("the sender was disconnected");
      }
    } catch (const std::exception& failure) {
      const std::lock_guard lock(mutex_);
      error_ = failure.what();
    }
  }

  Member& sender_;
  const std::string joined_notice_;
  std::mutex mutex_;
  std::vector<int> sent_after_join_;
  std::string error_;
  std::jthread thread_;  // last: stopped and joined before the rest goes
};

TEST(RoomChannels, AJoinRacingLinesInFlightLosesNoneAfterItsNoticeAndRepeatsNone) {
  constexpr std::size_t kStints = 20;
  // How far past the first line that must arrive the joiner reads before it leaves again.
  constexpr int kLinesPastJoin = 20;
  Cluster cluster({.nodes = 2, .node_args = {"--history", "0", "--max-rate", "0"}});
  Member a = join(cluster.port(0));
  Member sender = join(cluster.port(1));
  ASSERT_TRUE(settle_in_lobby({&a, &sender}));
  ASSERT_TRUE(join_room(sender, "race", 1, kCrossNodeTimeout));
  ASSERT_TRUE(a.client.expect_line(left(sender.name, 1), kCrossNodeTimeout));
  // n1 has no member in race: it does not receive the room until a enters it.
  EXPECT_EQ(subscribers(cluster.redis(), room_channel("race")), 1);

  Flood flood(sender, a.name);
  int last = -1;  // the last number a received, over all stints
  // Every other stint, a leaves and comes back in one write: the subscribe then races the
  // unsubscribe of the same room.
  bool join_sent = false;
  for (std::size_t stint = 0; stint < kStints; ++stint) {
    SCOPED_TRACE("stint " + std::to_string(stint) +
                 (join_sent ? ", a came back in the write that left" : ""));
    if (!join_sent) a.client.send("/join race\n");
    // a is alone in the lobby until the reply: nothing comes before it.
    ASSERT_TRUE(a.client.expect_line(now_in("race", 2), kCrossNodeTimeout)) << flood.error();
    int first = -1;
    std::optional<int> must_arrive;
    while (!must_arrive || last < *must_arrive + kLinesPastJoin) {
      const auto line = a.client.read_line(kCrossNodeTimeout);
      ASSERT_TRUE(line.has_value()) << "no line after " << last << "; " << flood.error();
      const auto number = flood_number(*line, sender.name);
      ASSERT_TRUE(number.has_value()) << escape_bytes(*line);
      if (first < 0) {
        first = *number;
        ASSERT_GT(first, last) << "a line of an earlier stint came again";
      } else {
        ASSERT_EQ(*number, last + 1)
            << "lost or repeated after " << last << "; the stint began with " << first;
      }
      last = *number;
      must_arrive = flood.sent_after_join(stint);
    }
    ASSERT_LE(first, *must_arrive)
        << "line " << *must_arrive << " was sent after the sender saw a's join, and is lost";
    // How many lines a got that were in flight when the sender saw the join notice.
    std::cout << "stint " << stint << ": lines from " << first << ", all from " << *must_arrive
              << " on\n";

    join_sent = stint % 2 == 0 && stint + 1 < kStints;
    a.client.send(join_sent ? "/join lobby\n/join race\n" : "/join lobby\n");
    // Lines of race queued before the move still come, in order; none after it.
    for (;;) {
      const auto line = a.client.read_line(kCrossNodeTimeout);
      ASSERT_TRUE(line.has_value()) << "no reply to /join lobby; " << flood.error();
      if (*line == now_in("lobby", 1)) break;
      const auto number = flood_number(*line, sender.name);
      ASSERT_TRUE(number.has_value()) << escape_bytes(*line);
      ASSERT_EQ(*number, last + 1) << "lost or repeated after " << last;
      last = *number;
    }
  }
  EXPECT_EQ(flood.error(), "");
}

TEST(RoomChannels, WhispersReachAnotherNodeThatHostsNoneOfTheSendersRooms) {
  Cluster cluster({.nodes = 2, .node_args = kNoHistory});
  auto [a, b] = connect_one_per_node<2>(cluster);
  ASSERT_TRUE(settle_in_lobby({&a, &b}));
  ASSERT_TRUE(join_room(b, "dev", 1, kCrossNodeTimeout));
  ASSERT_TRUE(a.client.expect_line(left(b.name, 1), kCrossNodeTimeout));
  // Each node receives its own whispers; n2 no longer receives the lobby, n1 never had dev.
  EXPECT_EQ(subscribers(cluster.redis(), "epollchat:whisper:n1"), 1);
  EXPECT_EQ(subscribers(cluster.redis(), "epollchat:whisper:n2"), 1);
  EXPECT_TRUE(wait_for_subscribers(cluster.redis(), room_channel("lobby"), 1));
  EXPECT_EQ(subscribers(cluster.redis(), room_channel("dev")), 1);

  a.client.send("/msg #n2:1 from the lobby on n1\n");
  EXPECT_TRUE(b.client.expect_line(whispers(a.name, "from the lobby on n1"), kCrossNodeTimeout));
  EXPECT_TRUE(a.client.expect_line(sent_to(b.name), kCrossNodeTimeout));
  b.client.send("/msg #n1:1 from dev on n2\n");
  EXPECT_TRUE(a.client.expect_line(whispers(b.name, "from dev on n2"), kCrossNodeTimeout));
  EXPECT_TRUE(b.client.expect_line(sent_to(a.name), kCrossNodeTimeout));

  // The last member of a room that disconnects takes the room from its node as /part does;
  // the node keeps its whisper channel.
  b.client.close();
  EXPECT_TRUE(wait_for_subscribers(cluster.redis(), room_channel("dev"), 0));
  EXPECT_EQ(subscribers(cluster.redis(), "epollchat:whisper:n2"), 1);
}

TEST(RoomChannels, AfterRedisIsBackEachNodeReceivesTheRoomsItHostsAgain) {
  Cluster cluster({.nodes = 2, .node_args = kNoHistory});
  const RedisServer& redis = cluster.redis();
  auto [a, b] = connect_one_per_node<2>(cluster);
  Member c = join(cluster.port(0));
  ASSERT_TRUE(settle_in_lobby({&a, &b, &c}));
  // dev on both nodes, the lobby on n1 only.
  ASSERT_TRUE(join_room(a, "dev", 1, kCrossNodeTimeout));
  ASSERT_TRUE(expect_line_at_each({&b, &c}, left(a.name, 2), kCrossNodeTimeout));
  ASSERT_TRUE(join_room(b, "dev", 2, kCrossNodeTimeout));
  ASSERT_TRUE(a.client.expect_line(joined(b.name, 2), kCrossNodeTimeout));
  ASSERT_TRUE(c.client.expect_line(left(b.name, 1), kCrossNodeTimeout));

  cluster.redis().stop();
  ASSERT_TRUE(expect_line_at_each({&a, &b, &c}, kLinkLost, kCrossNodeTimeout));
  cluster.redis().start();  // empty: every subscription went with the old process
  ASSERT_TRUE(expect_line_at_each({&a, &b, &c}, kLinkRestored, kSettleTimeout));

  EXPECT_TRUE(wait_for_subscribers(redis, room_channel("dev"), 2));
  EXPECT_EQ(subscribers(redis, room_channel("lobby")), 1);
  EXPECT_EQ(subscribers(redis, "epollchat:presence"), 2);
  EXPECT_EQ(subscribers(redis, "epollchat:whisper:n1"), 1);
  EXPECT_EQ(subscribers(redis, "epollchat:whisper:n2"), 1);
  a.client.send("back on n1\n");
  EXPECT_TRUE(b.client.expect_line(says(a.name, "back on n1"), kCrossNodeTimeout));
  b.client.send("back on n2\n");
  EXPECT_TRUE(a.client.expect_line(says(b.name, "back on n2"), kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
