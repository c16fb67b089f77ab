// Presence survives a backlog of chat to Redis. A node lets at most 4 MiB of commands wait
// for Redis and drops chat beyond that; what says who is where (join, leave, rename) must
// never be dropped with it, or the other nodes keep a departed client as a ghost in /who and
// its nickname stays taken there. So: while Redis is stopped (for less than the 5 s liveness
// timeout) and a flood of chat fills the cap, clients leave, rename and change rooms, and
// the other node must show all of it soon after Redis answers again. A whisper that cannot
// go out over the cap is answered as not sent, not as sent. And the node's own heartbeat is
// never dropped either: a node whose backlog is full at every heartbeat, while Redis answers
// everything within a second, keeps its link.
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/link_faults.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

// More than the 4 MiB cap, in lines under the default max-line (4096).
constexpr std::size_t kFloodBytes = 5 * 1024 * 1024;
constexpr std::size_t kFloodLineText = 4000;

// 24 characters, the longest nicknames: a message about one of them is larger than the
// smallest message the flood ends with, so it cannot slip into the room left under the cap.
constexpr std::string_view kLeaver = "leaving_member_long_name";
constexpr std::string_view kRenamer = "renaming_member_longname";
constexpr std::string_view kRenamed = "Renaming_Member_LongName";
constexpr std::string_view kMover = "moving_member_long_name1";

// The flooder says more chat than the cap lets wait, at once: 64 KiB messages until one
// does not fit, then actions (one message each) of falling sizes down to one character, so
// the room left under the cap is smaller than any message about a client with a long
// nickname. Its /rooms reply comes after every line was read, and so published or dropped.
::testing::AssertionResult fill_the_cap(Member& flooder) {
  const std::string line = std::string(kFloodLineText, 'f') + "\n";
  std::string burst;
  while (burst.size() < kFloodBytes) burst += line;
  for (const auto& [size, count] : {std::pair<std::size_t, int>{3000, 30}, {100, 40}, {1, 8}}) {
    for (int i = 0; i < count; ++i) burst += "/me " + std::string(size, 'a') + "\n";
  }
  flooder.client.send(burst, kCrossNodeTimeout);
  if (query_rooms(flooder, Deadline(kCrossNodeTimeout)).empty()) {
    return ::testing::AssertionFailure() << flooder.name << ": no /rooms reply after the flood";
  }
  return ::testing::AssertionSuccess();
}

// Reads the subscription to the nodes' channel until a heartbeat of `node` arrives
// ("2 B <16 hex digits> <node>"); returns when it came, or nullopt.
std::optional<Clock::time_point> next_beat(int subscription, std::string_view node,
                                           const Deadline& deadline) {
  const std::string head = "\r\n2 B ";
  const std::string tail = " " + std::string(node) + "\r\n";
  const std::size_t length = head.size() + 16 + tail.size();
  const auto has_beat = [&](std::string_view received) {
    for (auto at = received.find(head);
         at != std::string_view::npos && at + length <= received.size();
         at = received.find(head, at + 1)) {
      if (received.compare(at + head.size() + 16, tail.size(), tail) == 0) return true;
    }
    return false;
  };
  if (!read_subscription(subscription, has_beat, deadline)) return std::nullopt;
  return Clock::now();
}

// No STATUS= of node `index` since `mark` said the link was down: Redis was stopped for
// less than the liveness timeout, so no resent roster can have hidden a lost message.
::testing::AssertionResult link_stayed_up(Cluster& cluster, std::size_t index, std::size_t mark) {
  const auto& history = cluster.node(index).notify().history();
  for (std::size_t i = mark; i < history.size(); ++i) {
    const auto status = history[i].field("STATUS");
    if (status && status->find(kLinkDownStatus) != std::string::npos) {
      return ::testing::AssertionFailure()
             << "node " << Cluster::node_id(index) << " lost its link: " << *status;
    }
  }
  return ::testing::AssertionSuccess();
}

// Two nodes: a flooder on the first and a sink on the second, who move to the room "flood"
// once the test's other members are in the lobby: the flooder's lines go to the other node
// and to nobody on its own, and the sink is drained.
class PresenceUnderLoad : public ::testing::Test {
 protected:
  // Every member of `lobby` stays there; `views` (some of them) must count everyone after
  // the move.
  ::testing::AssertionResult open_flood_room(const std::vector<Member*>& lobby,
                                             const std::vector<Member*>& views) {
    std::vector<Member*> everyone = lobby;
    everyone.insert(everyone.end(), {&flooder_, &sink_});
    if (auto settled = settle_in_lobby(everyone); !settled) return settled;
    if (auto moved = join_room_after_notices(sink_, "flood", 1, kCrossNodeTimeout); !moved) {
      return moved;
    }
    const auto rooms = [&](std::size_t in_flood) {
      return rooms_reply({{"lobby", everyone.size() - in_flood}, {"flood", in_flood}});
    };
    if (auto known = settle({&flooder_}, rooms(1)); !known) return known;
    if (auto moved = join_room_after_notices(flooder_, "flood", 2, kCrossNodeTimeout); !moved) {
      return moved;
    }
    if (auto settled = settle(views, rooms(2)); !settled) return settled;
    drain_.emplace(sink_);
    return ::testing::AssertionSuccess();
  }

  Cluster cluster_{{.nodes = 2}};
  Member flooder_ = join(cluster_.port(0));
  Member sink_ = join(cluster_.port(1));
  std::optional<Drain> drain_;
};

TEST_F(PresenceUnderLoad, LeavesRenamesAndMovesBehindAFullBacklogReachTheOtherNode) {
  Member watcher = join(cluster_.port(0));
  Member leaver = join(cluster_.port(0));
  Member renamer = join(cluster_.port(0));
  Member mover = join(cluster_.port(0));
  Member there = join(cluster_.port(1));
  ASSERT_TRUE(open_flood_room({&watcher, &leaver, &renamer, &mover, &there}, {&watcher, &there}));
  ASSERT_TRUE(take_nickname(leaver, kLeaver, kCrossNodeTimeout));
  ASSERT_TRUE(take_nickname(renamer, kRenamer, kCrossNodeTimeout));
  ASSERT_TRUE(take_nickname(mover, kMover, kCrossNodeTimeout));

  const std::size_t marks[] = {cluster_.status_mark(0), cluster_.status_mark(1)};
  const auto paused_at = Clock::now();
  cluster_.redis().pause();
  ASSERT_TRUE(fill_the_cap(flooder_));
  const double filled_ms = elapsed_ms(paused_at);
  // Each step is confirmed by its node before the next, so all of them happen over the cap.
  leaver.client.close();
  ASSERT_TRUE(watcher.client.skip_until_line(left(kLeaver, 4)));
  ASSERT_TRUE(take_nickname(renamer, kRenamed, kCrossNodeTimeout));
  ASSERT_TRUE(watcher.client.skip_until_line(known_as(kRenamer, kRenamed)));
  ASSERT_TRUE(join_room_after_notices(mover, "elsewhere", 1, kCrossNodeTimeout));
  ASSERT_TRUE(watcher.client.skip_until_line(left(kMover, 3)));
  const double stopped_ms = elapsed_ms(paused_at);
  cluster_.redis().resume();
  const auto resumed_at = Clock::now();
  std::cout << "Redis stopped for " << stopped_ms << " ms; " << kFloodBytes
            << " bytes of chat read by the node within " << filled_ms << " ms\n";

  // The other node's lobby: its own member, the watcher and the renamed member; no ghost.
  const auto right =
      wait_for_who(there, {there.name, watcher.name, std::string(kRenamed)}, kCrossNodeTimeout);
  EXPECT_TRUE(right);
  std::cout << "/who on the other node " << (right ? "was right" : "still listed ghosts") << " "
            << elapsed_ms(resumed_at) << " ms after SIGCONT\n";
  const auto free = wait_for_nickname(there, kLeaver, kCrossNodeTimeout);
  EXPECT_TRUE(free);
  std::cout << "the departed member's nickname " << (free ? "was free" : "was still taken")
            << " on the other node " << elapsed_ms(resumed_at) << " ms after SIGCONT\n";
  EXPECT_TRUE(wait_for_who(watcher, {watcher.name, std::string(kRenamed), there.name}));
  for (std::size_t node = 0; node < 2; ++node) {
    EXPECT_TRUE(link_stayed_up(cluster_, node, marks[node]));
  }
  std::cout << "the other node's member of the flooded room drained " << drain_->bytes()
            << " bytes\n";
}

TEST_F(PresenceUnderLoad, AWhisperThatCannotGoOutIsNotReportedSent) {
  Member whisperer = join(cluster_.port(0));
  Member there = join(cluster_.port(1));
  ASSERT_TRUE(open_flood_room({&whisperer, &there}, {&whisperer, &there}));
  ASSERT_TRUE(take_nickname_seen_by(there, "yvonne", {&whisperer}, kCrossNodeTimeout));

  cluster_.redis().pause();
  ASSERT_TRUE(fill_the_cap(flooder_));
  // Larger than the flood's last messages, so it cannot fit in what is left under the cap.
  whisperer.client.send("/msg yvonne " + std::string(200, 'w') + "\n");
  EXPECT_TRUE(whisperer.client.expect_line(not_sent_to("yvonne"), kCrossNodeTimeout));
  cluster_.redis().resume();
  const auto resumed_at = Clock::now();

  // Once Redis has caught up, whispers go out again.
  const Deadline deadline(kSettleTimeout);
  int refused = 0;
  for (;;) {
    whisperer.client.send("/msg yvonne after the backlog\n");
    const auto reply = whisperer.client.read_line(deadline.remaining());
    ASSERT_TRUE(reply) << "no reply to /msg " << elapsed_ms(resumed_at) << " ms after SIGCONT";
    if (*reply == sent_to("yvonne")) break;
    ASSERT_EQ(*reply, not_sent_to("yvonne"));
    ++refused;
    ASSERT_FALSE(deadline.has_expired())
        << "whispers still refused " << elapsed_ms(resumed_at) << " ms after SIGCONT";
    whisperer.client.read_line(milliseconds(100));
  }
  std::cout << "whispers went out again " << elapsed_ms(resumed_at) << " ms after SIGCONT ("
            << refused << " refused meanwhile)\n";
  EXPECT_TRUE(there.client.skip_until_line(whispers(whisperer.name, "after the backlog"),
                                           kCrossNodeTimeout));
}

TEST_F(PresenceUnderLoad, HeartbeatsGoOutWhileChatKeepsTheBacklogFull) {
  // Redis runs for 300 ms in the middle between two heartbeats of the first node and is
  // stopped across each heartbeat, after the flood filled the cap again: every heartbeat
  // meets a full backlog, and every command is answered within about a second.
  constexpr int kCycles = 8;
  constexpr auto kStopAfterBeat = milliseconds(650);
  constexpr auto kRunAfterBeat = milliseconds(350);
  Member watcher = join(cluster_.port(0));
  Member there = join(cluster_.port(1));
  ASSERT_TRUE(open_flood_room({&watcher, &there}, {&watcher, &there}));
  const UniqueFd subscription = cluster_.redis().subscribe("epollchat:presence", kReplyTimeout);
  ASSERT_TRUE(subscription) << "could not subscribe to the nodes' channel";
  // The second one: the first may have waited unread since the subscription.
  const Deadline deadline(kCrossNodeTimeout);
  ASSERT_TRUE(next_beat(subscription.get(), Cluster::node_id(0), deadline));
  const auto beat = next_beat(subscription.get(), Cluster::node_id(0), deadline);
  ASSERT_TRUE(beat) << "no heartbeat of " << Cluster::node_id(0) << " on the channel";

  const std::size_t marks[] = {cluster_.status_mark(0), cluster_.status_mark(1)};
  double slowest_fill_ms = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    // Time is the subject here: the stops are placed around the heartbeats.
    std::this_thread::sleep_until(*beat + std::chrono::seconds(cycle) + kStopAfterBeat);
    cluster_.redis().pause();
    const auto filling = Clock::now();
    ASSERT_TRUE(fill_the_cap(flooder_));
    slowest_fill_ms = std::max(slowest_fill_ms, elapsed_ms(filling));
    std::this_thread::sleep_until(*beat + std::chrono::seconds(cycle + 1) + kRunAfterBeat);
    cluster_.redis().resume();
  }
  std::cout << kCycles << " heartbeats met a full backlog (filled within " << slowest_fill_ms
            << " ms of each stop, " << (1000 - kStopAfterBeat.count()) << " ms before the beat)\n";
  for (std::size_t node = 0; node < 2; ++node) {
    EXPECT_TRUE(link_stayed_up(cluster_, node, marks[node]));
  }
  EXPECT_TRUE(expect_nothing_before_marker(there, watcher, "still linked", kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
