// Server, room history: a client joining a room (the lobby at connect, another room by
// /join) reads the room's last chat lines and actions between "*** History:" and "*** End
// of history.", each with its time, then the live chat; never whispers or notices; a rename
// does not rewrite what was said; with history 0 nothing; a reload changes the length.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/server.hpp"
#include "chat/server_limits.hpp"
#include "support/protocol_lines.hpp"
#include "unit/chat/chat_harness.hpp"

namespace epollchat::chat {
namespace {

using test::ChatHarness;
using test::ClientEnd;
namespace lines = test::lines;
using Lines = std::vector<std::string>;

// `client`'s next lines, if they are a history block: the lines in it without their times
// (a line whose time is malformed is kept whole, so the comparison shows it).
Lines read_history(ClientEnd& client) {
  Lines history;
  if (const std::string start = client.next_line(); start != lines::kHistoryStart) {
    history.push_back("not a history start: " + start);
    return history;
  }
  for (std::string line = client.next_line(); line != lines::kHistoryEnd;
       line = client.next_line()) {
    if (line == ClientEnd::kNoLine) break;
    const std::optional<std::string_view> stripped = lines::strip_history_time(line);
    history.emplace_back(stripped ? *stripped : "untimed: " + line);
  }
  return history;
}

ServerLimits with_history(std::size_t lines) {
  ServerLimits limits;
  limits.history = lines;
  return limits;
}

TEST(ServerHistory, AClientArrivingAfterChatReadsTheLobbysLinesAfterItsWelcome) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  clients[0]->send("hello\nhow are you?\n");
  clients[1]->send_line("/me waves");
  EXPECT_EQ(clients[1]->next_lines(2),
            (Lines{lines::says(1, "hello"), lines::says(1, "how are you?")}));
  EXPECT_EQ(clients[0]->next_line(), lines::action("Client #2", "waves"));

  ClientEnd& late = harness.connect();
  EXPECT_EQ(late.next_line(), lines::welcome(3));
  EXPECT_EQ(read_history(late), (Lines{lines::says(1, "hello"), lines::says(1, "how are you?"),
                                       lines::action("Client #2", "waves")}));
  // Then the live chat, once.
  clients[0]->send_line("live");
  EXPECT_EQ(late.next_line(), lines::says(1, "live"));
  EXPECT_EQ(late.sync(), Lines{});
}

TEST(ServerHistory, AnEmptyHistoryAddsNoLines) {
  ChatHarness harness;
  ClientEnd& first = harness.connect();
  EXPECT_EQ(first.next_line(), lines::welcome(1));
  EXPECT_EQ(first.sync(), Lines{});
  ClientEnd& second = harness.connect();
  EXPECT_EQ(second.next_line(), lines::welcome(2));
  EXPECT_EQ(second.sync(), Lines{}) << "join notices are not history";
}

TEST(ServerHistory, JoinGivesTheRoomsHistoryAfterTheConfirmation) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  clients[0]->send_line("/join dev");
  EXPECT_EQ(clients[0]->next_line(), lines::now_in("dev", 1));
  EXPECT_EQ(clients[1]->next_line(), lines::left(1, 2));
  clients[1]->send_line("/join dev");
  EXPECT_EQ(clients[1]->next_line(), lines::now_in("dev", 2));
  EXPECT_EQ(clients[0]->next_line(), lines::joined(2, 2));
  clients[0]->send_line("in dev");
  EXPECT_EQ(clients[1]->next_line(), lines::says(1, "in dev"));
  (void)clients[2]->sync();

  clients[2]->send_line("/join DEV");
  EXPECT_EQ(clients[2]->next_line(), lines::now_in("dev", 3));
  EXPECT_EQ(read_history(*clients[2]), Lines{lines::says(1, "in dev")});
  EXPECT_EQ(clients[2]->sync(), Lines{});
  // Back in the lobby, where nobody said anything: no history.
  clients[2]->send_line("/part");
  EXPECT_EQ(clients[2]->next_line(), lines::now_in("lobby", 1));
  EXPECT_EQ(clients[2]->sync(), Lines{});
}

TEST(ServerHistory, KeepsNoWhisperOrNoticeAndARenameRewritesNothing) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  clients[0]->send_line("before");
  EXPECT_EQ(clients[1]->next_line(), lines::says(1, "before"));
  clients[0]->send_line("/msg #2 secret");
  EXPECT_EQ(clients[1]->next_line(), lines::whispers("Client #1", "secret"));
  EXPECT_EQ(clients[0]->next_line(), lines::sent_to("Client #2"));
  clients[0]->send_line("/nick ann");
  EXPECT_EQ(clients[0]->next_line(), lines::now_known_as("ann"));
  EXPECT_EQ(clients[1]->next_line(), lines::known_as("Client #1", "ann"));
  clients[0]->send_line("after");
  EXPECT_EQ(clients[1]->next_line(), lines::says("ann", "after"));
  clients[1]->send_line("/quit bye");
  (void)clients[0]->sync();

  ClientEnd& late = harness.connect();
  EXPECT_EQ(late.next_line(), lines::welcome(3));
  EXPECT_EQ(read_history(late), (Lines{lines::says(1, "before"), lines::says("ann", "after")}));
  EXPECT_EQ(late.sync(), Lines{});
}

TEST(ServerHistory, ALineNobodyHeardIsNotKept) {
  ChatHarness harness;
  ClientEnd& alone = *harness.connect_settled(1)[0];
  alone.send_line("anyone there?");
  EXPECT_EQ(alone.next_line(), lines::kAlone);
  ClientEnd& company = harness.connect();
  EXPECT_EQ(company.next_line(), lines::welcome(2));
  EXPECT_EQ(company.sync(), Lines{});
}

TEST(ServerHistory, KeepsOnlyTheLastLinesOfItsLength) {
  ChatHarness harness(with_history(2));
  const auto clients = harness.connect_settled(2);
  clients[0]->send("one\ntwo\nthree\n");
  EXPECT_EQ(clients[1]->next_lines(3).back(), lines::says(1, "three"));
  ClientEnd& late = harness.connect();
  EXPECT_EQ(late.next_line(), lines::welcome(3));
  EXPECT_EQ(read_history(late), (Lines{lines::says(1, "two"), lines::says(1, "three")}));
}

TEST(ServerHistory, ZeroKeepsNothingAndAReloadTurnsItOnAndOff) {
  ChatHarness harness(with_history(0));
  const auto clients = harness.connect_settled(2);
  clients[0]->send_line("unkept");
  EXPECT_EQ(clients[1]->next_line(), lines::says(1, "unkept"));
  ClientEnd& third = harness.connect();
  EXPECT_EQ(third.next_line(), lines::welcome(3));
  EXPECT_EQ(third.sync(), Lines{});
  (void)clients[1]->sync();

  harness.server().apply_limits(with_history(5));
  clients[0]->send_line("kept");
  EXPECT_EQ(clients[1]->next_line(), lines::says(1, "kept"));
  (void)clients[0]->sync();
  ClientEnd& fourth = harness.connect();
  EXPECT_EQ(fourth.next_line(), lines::welcome(4));
  EXPECT_EQ(read_history(fourth), Lines{lines::says(1, "kept")});

  harness.server().apply_limits(with_history(0));
  ClientEnd& fifth = harness.connect();
  EXPECT_EQ(fifth.next_line(), lines::welcome(5));
  EXPECT_EQ(fifth.sync(), Lines{});
}

TEST(ServerHistory, ARoomThatEmptiedKeepsItsHistoryForTheNextToJoin) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  clients[0]->send_line("/join dev");
  EXPECT_EQ(clients[0]->next_line(), lines::now_in("dev", 1));
  (void)clients[1]->sync();
  clients[1]->send_line("/join dev");
  EXPECT_EQ(clients[1]->next_line(), lines::now_in("dev", 2));
  clients[1]->send_line("/me leaves a note");
  EXPECT_EQ(clients[0]->next_lines(2).back(), lines::action("Client #2", "leaves a note"));
  clients[0]->send_line("/part");
  EXPECT_EQ(clients[0]->next_line(), lines::now_in("lobby", 1));
  (void)clients[1]->sync();
  clients[1]->send_line("/part");
  EXPECT_EQ(clients[1]->next_line(), lines::now_in("lobby", 2));
  (void)clients[0]->sync();
  ASSERT_EQ(harness.server().rooms().find("dev"), nullptr) << "dev closed when it emptied";

  clients[0]->send_line("/join dev");
  EXPECT_EQ(clients[0]->next_line(), lines::now_in("dev", 1));
  EXPECT_EQ(read_history(*clients[0]), Lines{lines::action("Client #2", "leaves a note")});
}

}  // namespace
}  // namespace epollchat::chat
