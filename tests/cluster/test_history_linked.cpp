// Room history across linked nodes: a client entering a room on a node that did not host it
// reads what was said there on other nodes (kept in Redis), in the same form as on one node;
// lines said while it enters come once, either in that history or live, never both and never
// neither; a node started after the lines were said reads them too; and with Redis gone, a
// joiner reads what its own node kept, marked as such.
#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"
#include "support/daemon_process.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

constexpr std::string_view kThisServerOnly =
    "*** History of this server only: the link to other servers is down.";

// Reads the history block that follows a join reply, without the times; nullopt if the
// member's next line does not start one.
std::optional<std::vector<std::string>> read_history(Member& member) {
  const auto start = member.client.read_line(kCrossNodeTimeout);
  if (!start || *start != kHistoryStart) return std::nullopt;
  std::vector<std::string> lines;
  for (;;) {
    const auto line = member.client.read_line(kCrossNodeTimeout);
    if (!line) return std::nullopt;
    if (*line == kHistoryEnd) return lines;
    const auto said = strip_history_time(*line);
    if (!said) return std::nullopt;
    lines.emplace_back(*said);
  }
}

// Skips the member's lines until `wanted` comes, live or in a history block (a line said
// while the member's node was reading the room's history from Redis is in it).
::testing::AssertionResult hears(Member& member, std::string_view wanted) {
  const auto line = member.client.skip_until(
      [wanted](std::string_view any) { return strip_history_time(any).value_or(any) == wanted; },
      kCrossNodeTimeout);
  if (line) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << member.name << " never heard \"" << wanted << "\"";
}

TEST(HistoryLinked, AJoinerOnANodeThatDidNotHostTheRoomReadsWhatWasSaidThere) {
  Cluster cluster({.nodes = 3});
  auto [speaker, listener, witness] = connect_one_per_node<3>(cluster);
  ASSERT_TRUE(settle_in_lobby({&speaker, &listener, &witness}));
  ASSERT_TRUE(join_room_after_notices(speaker, "dev", 1, kCrossNodeTimeout));
  // The others hear of the move once the speaker's node receives dev.
  for (Member* lobby : {&listener, &witness}) {
    ASSERT_TRUE(lobby->client.skip_until_line(left(speaker.name, 2), kCrossNodeTimeout));
  }
  ASSERT_TRUE(join_room_after_notices(witness, "dev", 2, kCrossNodeTimeout));
  speaker.client.send("first\nsecond\n");
  speaker.client.send("/me waves\n");
  // A line is recorded in Redis in the same transaction that publishes it: once the witness
  // (third node) has heard the action, all three are recorded.
  ASSERT_TRUE(hears(witness, action(speaker.name, "waves")));

  ASSERT_TRUE(join_room_after_notices(listener, "dev", 3, kCrossNodeTimeout));
  const auto history = read_history(listener);
  ASSERT_TRUE(history) << "no history block after the join";
  EXPECT_EQ(*history,
            (std::vector<std::string>{says(speaker.name, "first"), says(speaker.name, "second"),
                                      action(speaker.name, "waves")}));
  speaker.client.send("live\n");
  EXPECT_TRUE(listener.client.skip_until_line(says(speaker.name, "live"), kCrossNodeTimeout));
}

TEST(HistoryLinked, LinesSaidWhileAClientEntersComeOnceInHistoryOrLive) {
  constexpr int kLines = 400;
  Cluster cluster({.nodes = 2, .node_args = {"--history", "1000"}});
  Member speaker = join(cluster.port(0));
  Member listener = join(cluster.port(1));
  ASSERT_TRUE(settle_in_lobby({&speaker, &listener}));
  ASSERT_TRUE(join_room_after_notices(speaker, "dev", 1, kCrossNodeTimeout));
  ASSERT_TRUE(settle({&listener}, "*** Rooms: lobby (1), dev (1)"));

  // The speaker talks on while the listener enters: some lines were recorded before the
  // listener's node read the history, some after.
  std::thread talk([&speaker] {
    for (int i = 1; i <= kLines; ++i) speaker.client.send("line " + std::to_string(i) + "\n");
  });
  listener.client.send("/join dev\n");
  talk.join();
  speaker.client.send("end\n");

  std::vector<int> heard;
  std::size_t from_history = 0;
  const std::string prefix = says(speaker.name, "line ");
  for (;;) {
    const auto line = listener.client.read_line(kCrossNodeTimeout);
    ASSERT_TRUE(line) << "the listener stopped hearing after " << heard.size() << " lines";
    const std::string_view said = strip_history_time(*line).value_or(*line);
    if (said == says(speaker.name, "end")) break;
    if (!said.starts_with(prefix)) continue;
    heard.push_back(std::stoi(std::string(said.substr(prefix.size()))));
    if (said.size() != line->size()) ++from_history;
  }
  ASSERT_FALSE(heard.empty());
  std::cout << from_history << " lines in the history, " << heard.size() - from_history
            << " live\n";
  // From the first line heard on, every line once and in order, up to the last.
  for (std::size_t i = 1; i < heard.size(); ++i) {
    ASSERT_EQ(heard[i], heard[i - 1] + 1) << "after line " << heard[i - 1];
  }
  EXPECT_EQ(heard.back(), kLines);
  // History of 1000 lines: everything said in the room since it opened is there or live.
  EXPECT_EQ(heard.front(), 1);
}

TEST(HistoryLinked, ANodeStartedLaterReadsTheRoomsHistory) {
  Cluster cluster({.nodes = 2});
  auto [speaker, witness] = connect_one_per_node<2>(cluster);
  ASSERT_TRUE(settle_in_lobby({&speaker, &witness}));
  speaker.client.send("said before the third node ran\n");
  ASSERT_TRUE(hears(witness, says(speaker.name, "said before the third node ran")));

  DaemonOptions late_options;
  late_options.extra_args = {"--redis", cluster.redis().address(), "--node-id", "n9"};
  DaemonProcess late(late_options);
  ASSERT_TRUE(wait_for_status(late, link_up_status(3)));
  Member newcomer = join(late.port());
  const auto history = read_history(newcomer);
  ASSERT_TRUE(history) << "no history block after the welcome";
  EXPECT_EQ(*history,
            (std::vector<std::string>{says(speaker.name, "said before the third node ran")}));
}

TEST(HistoryLinked, WithRedisGoneAJoinerReadsWhatItsNodeKeptMarkedAsSuch) {
  Cluster cluster({.nodes = 2});
  Member speaker = join(cluster.port(0));
  Member other = join(cluster.port(1));
  ASSERT_TRUE(settle_in_lobby({&speaker, &other}));
  speaker.client.send("kept here\n");
  ASSERT_TRUE(hears(other, says(speaker.name, "kept here")));

  const std::size_t mark = cluster.status_mark(0);
  cluster.redis().stop();
  ASSERT_TRUE(cluster.wait_for_status(0, kLinkDownStatus, mark));
  Member joiner = join(cluster.port(0));
  const auto history = read_history(joiner);
  ASSERT_TRUE(history) << "no history block after the welcome";
  EXPECT_EQ(*history, (std::vector<std::string>{says(speaker.name, "kept here")}));
  EXPECT_TRUE(joiner.client.skip_until_line(kThisServerOnly, kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
