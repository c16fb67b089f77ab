// Server restarts that keep every client connected: a fresh server takes over the sessions
// a planned restart saved, on the same sockets. Nobody sees a leave or a join; ids,
// nicknames and rooms stay; what was in flight either way arrives once, in order; each
// client is told it is still there; a client that hung up meanwhile is seen to leave.
// The clients are socketpairs in this process (chat_harness.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/server.hpp"
#include "support/protocol_lines.hpp"
#include "unit/chat/chat_harness.hpp"

namespace epollchat::chat {
namespace {

namespace lines = test::lines;
using Lines = std::vector<std::string>;
using test::ChatHarness;
using test::ClientEnd;

TEST(ServerRestart, ClientsKeepTheirIdsNamesAndRoomsAndSeeOnlyTheNotice) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  ClientEnd& alice = *clients[0];
  ClientEnd& bob = *clients[1];
  ClientEnd& carol = *clients[2];
  carol.send_line("/join Kitchen");
  EXPECT_EQ(carol.sync(), Lines{lines::now_in("kitchen", 1)});
  alice.send_line("/nick alice");
  EXPECT_EQ(alice.sync(), (Lines{lines::left(3, 2), lines::now_known_as("alice")}));
  (void)bob.sync();

  EXPECT_EQ(harness.restart_server(), 3u);
  EXPECT_EQ(alice.sync(), Lines{lines::restarted("alice", "lobby")});
  EXPECT_EQ(bob.sync(), Lines{lines::restarted(lines::client_name(2), "lobby")});
  EXPECT_EQ(carol.sync(), Lines{lines::restarted(lines::client_name(3), "kitchen")});

  bob.send_line("still here");
  EXPECT_EQ(alice.next_line(), lines::says(2, "still here"));
  ClientEnd& dave = harness.connect();
  EXPECT_EQ(dave.next_line(), lines::welcome(4)) << "ids go on after the restored ones";
  EXPECT_EQ(alice.sync(), Lines{lines::joined(4, 3)});
  alice.send_line("/who");
  EXPECT_EQ(alice.next_line(), lines::who_reply({"alice", "Client #2", "Client #4"}))
      << "the room keeps its join order";
}

TEST(ServerRestart, QueuedOutputAndUnreadLinesArriveOnceAndInOrder) {
  ChatHarness harness;
  ClientEnd& reader = harness.connect(4096);  // a small send buffer: output stays queued
  ClientEnd& writer = harness.connect();
  (void)reader.sync();
  (void)writer.sync();
  const Session* reading = harness.session_of(reader);
  ASSERT_NE(reading, nullptr);
  constexpr int kLines = 400;
  std::string burst;
  for (int i = 0; i < kLines; ++i) burst += "line " + std::to_string(i) + "\n";
  writer.send(burst);
  ASSERT_TRUE(harness.run_until([&] { return reading->connection().pending_bytes() > 0; }));

  ASSERT_EQ(harness.restart_server(), 2u);
  // Lines still unread by the server (its writer may have been paused for the congested
  // reader) come after the notice; nothing is lost or repeated, and the order holds.
  Lines said;
  int notices = 0;
  for (int i = 0; i < kLines + 1; ++i) {
    const std::string line = reader.next_line();
    if (line == ClientEnd::kNoLine) break;
    if (line == lines::restarted(lines::client_name(1), "lobby")) {
      ++notices;
    } else {
      said.push_back(line);
    }
  }
  EXPECT_EQ(notices, 1);
  ASSERT_EQ(said.size(), static_cast<std::size_t>(kLines));
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(said[static_cast<std::size_t>(i)], lines::says(2, "line " + std::to_string(i)));
  }
}

TEST(ServerRestart, AnUnfinishedLineIsFinishedAfterTheRestart) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  ClientEnd& reader = *clients[0];
  ClientEnd& writer = *clients[1];
  const Session* writing = harness.session_of(writer);
  ASSERT_NE(writing, nullptr);
  writer.send("thr");
  ASSERT_TRUE(harness.run_until([&] { return writing->connection().buffered_input_bytes() == 3; }));
  ASSERT_EQ(harness.restart_server(), 2u);
  writer.send("ee\n");
  EXPECT_EQ(reader.next_lines(2),
            (Lines{lines::restarted(lines::client_name(1), "lobby"), lines::says(2, "three")}));
}

TEST(ServerRestart, AClientThatHungUpDuringTheRestartIsSeenToLeave) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  (void)clients[0]->sync();
  ASSERT_EQ(harness.restart_server({clients[2]->id()}), 2u);
  EXPECT_EQ(clients[0]->sync(),
            (Lines{lines::restarted(lines::client_name(1), "lobby"), lines::left(3, 2)}));
}

TEST(ServerRestart, ANicknameStaysTakenAcrossTheRestart) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  clients[0]->send_line("/nick alice");
  (void)clients[0]->sync();
  (void)clients[1]->sync();
  ASSERT_EQ(harness.restart_server(), 2u);
  (void)clients[1]->sync();
  clients[1]->send_line("/nick ALICE");
  EXPECT_EQ(clients[1]->next_line(), lines::nickname_taken("ALICE"));
}

TEST(ServerRestart, TheLineRateAllowanceIsCarriedNotRefilled) {
  ServerLimits limits;
  limits.connection.max_rate = 4;
  ChatHarness harness(limits);
  const auto clients = harness.connect_settled(2);
  // Three of its four lines of burst used up.
  clients[0]->send("one\ntwo\nthree\n");
  EXPECT_EQ(clients[1]->next_lines(3),
            (Lines{lines::says(1, "one"), lines::says(1, "two"), lines::says(1, "three")}));
  const auto before = harness.server().find_session(1)->connection().rate_allowance();
  ASSERT_TRUE(before.has_value());
  ASSERT_LT(*before, 2.0);
  const auto quiet_before = harness.server().find_session(2)->connection().rate_allowance();

  ASSERT_EQ(harness.restart_server({}, limits), 2u);
  const auto after = harness.server().find_session(1)->connection().rate_allowance();
  ASSERT_TRUE(after.has_value()) << "a restored client does not start with a fresh burst";
  EXPECT_NEAR(*after, *before, 0.01);
  EXPECT_EQ(harness.server().find_session(2)->connection().rate_allowance(), quiet_before)
      << "one that sent nothing keeps its whole burst";
}

TEST(ServerRestart, ANicknameTheOtherNodesHadNotGrantedYetIsAskedForAgain) {
  ChatHarness harness({}, ChatHarness::WithLink{});
  harness.link().go_up();
  const auto clients = harness.connect_settled(2);
  // The claim stays unanswered; the line after it waits for the answer.
  clients[0]->send("/nick alice\nhello\n");
  ASSERT_TRUE(harness.run_until([&] { return harness.link().claims().size() == 1; }));
  (void)clients[1]->sync();
  // The next server is on its own: it grants the name at once.
  ASSERT_EQ(harness.restart_server(), 2u);
  EXPECT_EQ(clients[0]->next_lines(2),
            (Lines{lines::restarted("Client #1", "lobby"), lines::now_known_as("alice")}));
  EXPECT_EQ(clients[1]->next_lines(3),
            (Lines{lines::restarted("Client #2", "lobby"), lines::known_as("Client #1", "alice"),
                   lines::says("alice", "hello")}));
}

}  // namespace
}  // namespace epollchat::chat
