// Without --redis nothing of the link shows (ids `Client #1`, no link notices, no link in
// STATUS=), and rooms work on the single node.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cluster/cluster_member.hpp"
#include "support/daemon_process.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

TEST(WithoutLink, IdsAndNoticesAreThoseOfTheCoreProtocol) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  EXPECT_EQ(a.name, client_name(1));
  Member b = join(daemon.port());
  EXPECT_EQ(b.name, client_name(2));
  EXPECT_TRUE(a.client.expect_line(lines::joined(2, 2)));
  a.client.send("hi\n");
  EXPECT_TRUE(b.client.expect_line(lines::says(1, "hi")));
  // No link notice came to b, nor to a: their next lines are each other's markers.
  EXPECT_TRUE(expect_nothing_before_marker(b, a, "marker", kReplyTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(a, b, "marker", kReplyTimeout));
  b.client.close();
  EXPECT_TRUE(a.client.expect_line(lines::left(2, 1)));
  // /msg #id works as before.
  Member c = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(3, 2)));
  // c arrives to the lobby's history (the lines and markers above).
  ASSERT_TRUE(c.client.expect_line(kHistoryStart));
  ASSERT_TRUE(c.client.skip_until_line(kHistoryEnd));
  a.client.send("/msg #3 psst\n");
  EXPECT_TRUE(c.client.expect_line(whispers(a.name, "psst")));
  EXPECT_TRUE(a.client.expect_line(sent_to(c.name)));

  const auto ready_status = daemon.ready_message().field("STATUS").value_or("");
  EXPECT_EQ(ready_status.find("link"), std::string::npos) << ready_status;
  for (const auto& message : daemon.notify().history()) {
    EXPECT_EQ(message.text.find("link"), std::string::npos) << message.text;
  }
}

class SingleNodeRooms : public ::testing::Test {
 protected:
  DaemonProcess daemon_;
  // a and b go to dev; c and d stay in the lobby. Each reads the join notices of those after
  // it, so every stream starts quiet.
  std::vector<Member> members_ = join_quiet(daemon_.port(), 4);
  Member& a_ = members_[0];
  Member& b_ = members_[1];
  Member& c_ = members_[2];
  Member& d_ = members_[3];
};

TEST_F(SingleNodeRooms, JoinChatRoomsAndPart) {
  a_.client.send("/join DEV\n");
  ASSERT_TRUE(a_.client.expect_line(now_in("dev", 1)));
  for (Member* lobby : {&b_, &c_, &d_}) {
    ASSERT_TRUE(lobby->client.expect_line(left(a_.name, 3))) << lobby->name;
  }
  b_.client.send("/join dev\n");
  ASSERT_TRUE(b_.client.expect_line(now_in("dev", 2)));
  ASSERT_TRUE(a_.client.expect_line(joined(b_.name, 2)));
  for (Member* lobby : {&c_, &d_}) {
    ASSERT_TRUE(lobby->client.expect_line(left(b_.name, 2))) << lobby->name;
  }

  a_.client.send("in dev\n");
  EXPECT_TRUE(b_.client.expect_line(says(a_.name, "in dev")));
  // The lobby heard nothing of it; dev hears nothing of the lobby.
  EXPECT_TRUE(expect_nothing_before_marker(d_, c_, "lobby", kReplyTimeout));
  EXPECT_TRUE(expect_nothing_before_marker(b_, a_, "dev", kReplyTimeout));

  c_.client.send("/rooms\n");
  EXPECT_TRUE(c_.client.expect_line("*** Rooms: lobby (2), dev (2)"));

  b_.client.send("/part\n");
  EXPECT_TRUE(b_.client.expect_line(now_in("lobby", 3)));
  EXPECT_TRUE(a_.client.expect_line(left(b_.name, 1)));
  EXPECT_TRUE(c_.client.expect_line(joined(b_.name, 3)));
  EXPECT_TRUE(d_.client.expect_line(joined(b_.name, 3)));
  a_.client.send("alone in dev\n");
  EXPECT_TRUE(a_.client.expect_line(kAlone));
}

TEST_F(SingleNodeRooms, RoomsListsTheLobbyFirstEvenWhenEmptyThenByName) {
  d_.client.send("/join zeta\n");
  ASSERT_TRUE(d_.client.expect_line(now_in("zeta", 1)));
  c_.client.send("/join zeta\n");
  ASSERT_TRUE(c_.client.skip_until_line(now_in("zeta", 2)));
  b_.client.send("/join alpha\n");
  ASSERT_TRUE(b_.client.skip_until_line(now_in("alpha", 1)));
  a_.client.send("/join zeta\n");
  ASSERT_TRUE(a_.client.skip_until_line(now_in("zeta", 3)));
  a_.client.send("/rooms\n");
  EXPECT_TRUE(a_.client.expect_line("*** Rooms: lobby (0), alpha (1), zeta (3)"));
}

TEST_F(SingleNodeRooms, CommandErrors) {
  a_.client.send("/join\n");
  EXPECT_TRUE(a_.client.expect_line("*** Usage: /join ROOM"));
  const std::string invalid = "*** Invalid room name: use 1-32 letters, digits, _ or -";
  const std::vector<std::string> invalid_names{"a!b", std::string(33, 'x'), "caf\xc3\xa9",
                                               "a\x1b[2J", "#dev"};
  for (const std::string& room : invalid_names) {
    a_.client.send("/join " + room + "\n");
    EXPECT_TRUE(a_.client.expect_line(invalid)) << room;
  }
  a_.client.send("/join lobby\n");
  EXPECT_TRUE(a_.client.expect_line(already_in("lobby")));
  a_.client.send("/part\n");
  EXPECT_TRUE(a_.client.expect_line(already_in("lobby")));
  a_.client.send("/join " + std::string(32, 'x') + "\n");
  EXPECT_TRUE(a_.client.expect_line(now_in(std::string(32, 'x'), 1)));
  a_.client.send("/join " + std::string(32, 'X') + "\n");
  EXPECT_TRUE(a_.client.expect_line(already_in(std::string(32, 'x'))));
  // None of the refused commands was announced: b's next line is a's leaving.
  EXPECT_TRUE(b_.client.expect_line(left(a_.name, 3)));
}

TEST_F(SingleNodeRooms, HelpListsTheRoomCommands) {
  a_.client.send("/help\n");
  ASSERT_TRUE(a_.client.expect_line("*** Commands:"));
  std::vector<std::string> help;
  for (;;) {
    const auto line = a_.client.read_line();
    ASSERT_TRUE(line);
    ASSERT_TRUE(line->starts_with("***   ")) << *line;
    help.push_back(*line);
    if (line->starts_with("***   //")) break;  // the last entry
  }
  for (const std::string command : {"/join ROOM", "/part", "/rooms"}) {
    EXPECT_TRUE(std::any_of(help.begin(), help.end(), [&](const std::string& line) {
      return line.starts_with("***   " + command + " ");
    })) << command;
  }
}

}  // namespace
}  // namespace epollchat::test
