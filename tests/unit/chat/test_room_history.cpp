// RoomHistory: keeps the newest lines in the order they were said, up to its capacity; keeps
// nothing when off; reuses its slots once full; replays them between the two markers with
// the UTC time each was said; a resize keeps the newest lines.
#include "chat/room_history.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace epollchat::chat {
namespace {

// 2026-12-06 20:51:07 UTC.
constexpr RoomHistory::Seconds kEvening = 1796590267;

std::vector<std::string> lines_of(const RoomHistory& history) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < history.size(); ++i) lines.emplace_back(history.line(i));
  return lines;
}

TEST(RoomHistory, KeepsLinesInTheOrderTheyWereSaid) {
  RoomHistory history(5);
  history.record("a says >> one", kEvening);
  history.record_chat("b", "two", kEvening + 1);
  history.record("* a waves", kEvening + 2);
  EXPECT_EQ(lines_of(history),
            (std::vector<std::string>{"a says >> one", "b says >> two", "* a waves"}));
  EXPECT_EQ(history.time(1), kEvening + 1);
}

TEST(RoomHistory, KeepsOnlyTheNewestLinesUpToItsCapacity) {
  RoomHistory history(3);
  for (int i = 1; i <= 10; ++i) history.record_chat("a", std::to_string(i), kEvening + i);
  EXPECT_EQ(history.size(), 3U);
  EXPECT_EQ(lines_of(history),
            (std::vector<std::string>{"a says >> 8", "a says >> 9", "a says >> 10"}));
  EXPECT_EQ(history.time(0), kEvening + 8);
  EXPECT_EQ(history.time(2), kEvening + 10);
}

TEST(RoomHistory, OffKeepsNothingAndReplaysNothing) {
  RoomHistory history(0);
  history.record("a says >> one", kEvening);
  history.record_chat("a", "two", kEvening);
  EXPECT_TRUE(history.is_empty());
  EXPECT_EQ(history.replay(), "");
}

TEST(RoomHistory, AnEmptyHistoryReplaysNothing) { EXPECT_EQ(RoomHistory(20).replay(), ""); }

TEST(RoomHistory, ReplaysBetweenMarkersWithTheUtcTimeOfEachLine) {
  RoomHistory history(20);
  history.record("Client #1 says >> hello", kEvening);
  history.record("* Client #2 waves", kEvening + 3600 * 5 + 60 + 1);  // 01:52:08 next day
  EXPECT_EQ(history.replay(),
            "*** History:\n"
            "[20:51:07] Client #1 says >> hello\n"
            "[01:52:08] * Client #2 waves\n"
            "*** End of history.\n");
}

TEST(RoomHistory, AReplayOverItsBoundLeavesOutTheOldestLines) {
  RoomHistory history(3);
  history.record("a says >> 1111111111", kEvening);
  history.record("a says >> 2222222222", kEvening);
  history.record("a says >> 3333333333", kEvening);
  const std::string markers = "*** History:\n*** End of history.\n";
  const std::size_t each = std::string("[20:51:07] a says >> 1111111111\n").size();
  EXPECT_EQ(history.replay(markers.size() + 2 * each + 1),
            "*** History:\n"
            "[20:51:07] a says >> 2222222222\n"
            "[20:51:07] a says >> 3333333333\n"
            "*** End of history.\n");
  EXPECT_EQ(history.replay(markers.size() + 3 * each).size(), markers.size() + 3 * each);
  EXPECT_EQ(history.replay(markers.size() + each - 1), "") << "not even the newest fits";
}

TEST(RoomHistory, FormatsAndSanitizesChatLikeTheRoom) {
  RoomHistory history(2);
  history.record_chat("ann", "bell\a here", kEvening);
  EXPECT_EQ(lines_of(history), (std::vector<std::string>{"ann says >> bell? here"}));
}

TEST(RoomHistory, ALineIsKeptAsSaidWhateverHappensToTheSenderLater) {
  // The room keeps the text it sent; a rename changes names from then on, not what was said.
  RoomHistory history(4);
  history.record_chat("Client #1", "before", kEvening);
  history.record_chat("ann", "after", kEvening + 1);
  EXPECT_EQ(lines_of(history),
            (std::vector<std::string>{"Client #1 says >> before", "ann says >> after"}));
}

TEST(RoomHistory, AFullRingReusesItsSlots) {
  RoomHistory history(2);
  const std::string long_text(200, 'x');
  history.record_chat("a", long_text, kEvening);
  history.record_chat("a", long_text, kEvening);
  const char* first = history.line(0).data();
  const char* second = history.line(1).data();
  // Shorter lines go into the buffers already there.
  history.record_chat("a", "short", kEvening);
  history.record_chat("a", "short too", kEvening);
  EXPECT_EQ(history.line(0).data(), first);
  EXPECT_EQ(history.line(1).data(), second);
  EXPECT_EQ(lines_of(history),
            (std::vector<std::string>{"a says >> short", "a says >> short too"}));
}

TEST(RoomHistory, ShrinkingKeepsTheNewestLinesAndGrowingKeepsAll) {
  RoomHistory history(5);
  for (int i = 1; i <= 7; ++i) history.record_chat("a", std::to_string(i), kEvening);
  history.set_capacity(2);
  EXPECT_EQ(lines_of(history), (std::vector<std::string>{"a says >> 6", "a says >> 7"}));
  history.set_capacity(4);
  history.record_chat("a", "8", kEvening);
  EXPECT_EQ(lines_of(history),
            (std::vector<std::string>{"a says >> 6", "a says >> 7", "a says >> 8"}));
  history.set_capacity(0);
  EXPECT_TRUE(history.is_empty());
  history.record_chat("a", "9", kEvening);
  EXPECT_TRUE(history.is_empty());
}

}  // namespace
}  // namespace epollchat::chat
