// A line said by a client that has just arrived reaches a listener on another node even when
// the speaker's node has not heard of that listener yet: with the link up, chat is always
// published, whatever the local count says (the speaker may still be told it is alone).
// The listener connects to its node, then the speaker connects to the other node and says a
// line at once. The join and the line race through Redis and the speaker's node loses the
// race in only some rounds (fewer under ASan, where its node is slower), so this is done 30
// times and no line may be lost. A line said while the listener's node was still reading
// the lobby's history from Redis comes in that history rather than live, and counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

constexpr int kRounds = 30;

// Connects and says `text` at once, before even reading the welcome line.
Member connect_and_say(std::uint16_t port, std::string_view text) {
  ChatClient client(port);
  client.send(std::string(text) + "\n");
  return read_welcome(std::move(client));
}

// The member's next chat line, live or (without its time) from the history it reads on
// arrival, that is one of `wanted`; nullopt if none came in time.
std::optional<std::string> next_line_of(Member& member, const std::vector<std::string>& wanted) {
  const auto line = member.client.skip_until(
      [&wanted](std::string_view any) {
        const std::string_view said = strip_history_time(any).value_or(any);
        return std::find(wanted.begin(), wanted.end(), said) != wanted.end();
      },
      kCrossNodeTimeout);
  if (!line) return std::nullopt;
  return std::string(strip_history_time(*line).value_or(*line));
}

// Asks /rooms and reads up to the reply: whether the member was told it is alone before it.
// nullopt if no reply came in time.
std::optional<bool> told_alone_before_rooms_reply(Member& member) {
  member.client.send("/rooms\n");
  bool alone = false;
  const auto reply = member.client.skip_until(
      [&alone](std::string_view line) {
        if (line == kAlone) alone = true;
        return line.starts_with("*** Rooms: ");
      },
      kCrossNodeTimeout);
  if (!reply) return std::nullopt;
  return alone;
}

TEST(FirstLine, ALineSaidOnArrivalReachesAListenerItsNodeHasNotHeardOf) {
  Cluster cluster({.nodes = 2});
  // In a room of its own on the speaker's node: its /rooms tells what that node knows of the
  // lobby, and it is nobody's audience there.
  Member observer = join(cluster.port(0));
  ASSERT_TRUE(join_room(observer, "watch", 1, kCrossNodeTimeout));
  int lost = 0;
  int told_alone = 0;
  for (int round = 1; round <= kRounds; ++round) {
    // The speaker's node knows nobody in the lobby: earlier rounds' members are gone.
    ASSERT_TRUE(settle({&observer}, "*** Rooms: lobby (0), watch (1)"));
    Member listener = join(cluster.port(1));
    const std::string text = "first words of round " + std::to_string(round);
    Member speaker = connect_and_say(cluster.port(0), text);

    const auto alone = told_alone_before_rooms_reply(speaker);
    ASSERT_TRUE(alone) << speaker.name << ": no /rooms reply";
    if (*alone) ++told_alone;
    // Once the speaker's node knows the listener, a fence line takes the same path as the
    // first: the listener's first line from the speaker tells whether the first was lost.
    ASSERT_TRUE(settle({&speaker}, "*** Rooms: lobby (2), watch (1)"));
    const std::string fence = "fence of round " + std::to_string(round);
    speaker.client.send(fence + "\n");
    const auto line = next_line_of(listener, {says(speaker.name, text), says(speaker.name, fence)});
    ASSERT_TRUE(line) << listener.name << ": heard neither the first line nor the fence";
    if (*line == says(speaker.name, fence)) {
      ++lost;
      ADD_FAILURE() << "round " << round << ": \"" << text << "\" never reached " << listener.name;
    } else {
      EXPECT_EQ(*line, says(speaker.name, text));
    }
  }
  std::cout << lost << " of " << kRounds << " first lines lost; the speaker was told it was alone "
            << told_alone << " times\n";
}

}  // namespace
}  // namespace epollchat::test
