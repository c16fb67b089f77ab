// /help, /quit [reason], unknown commands and the `//text` escape.
#include <gtest/gtest.h>

#include <string>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(Help, ListsEveryCommandAsNotices) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  a.client.send("/help\n");
  EXPECT_TRUE(a.client.expect_line("*** Commands:"));
  for (const std::string command :
       {"/nick", "/who", "/msg", "/me", "/join", "/part", "/rooms", "/quit", "/help", "//"}) {
    const auto line = a.client.read_line();
    ASSERT_TRUE(line);
    EXPECT_TRUE(line->starts_with("***   " + command)) << *line;
  }
  // Nothing else followed: the next reply is the next command's.
  a.client.send("/who\n");
  EXPECT_TRUE(a.client.expect_line(lines::who_reply({lines::client_name(a.id)})));
}

TEST(Quit, WithReasonOthersSeeItAndTheConnectionCloses) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));
  a.client.send("/quit  gone \x1b fishing \nnot relayed\n");
  EXPECT_TRUE(b.client.expect_line("*** alice left (1 online): gone ? fishing"));
  const auto rest = a.client.read_until_closed();
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, "");
  b.client.send("/who\n");
  EXPECT_TRUE(b.client.expect_line(lines::who_reply({lines::client_name(b.id)})));
}

TEST(Quit, WithoutReasonIsThePlainLeaveNotice) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  b.client.send("/QUIT\n");
  EXPECT_TRUE(a.client.expect_line(lines::left(b.id, 1)));
  EXPECT_TRUE(b.client.read_until_closed());
}

TEST(Unknown, IsAnsweredAndNotBroadcast) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  a.client.send("/xyz foo bar\n/\n/nickname x\n/x\x1b\n");
  EXPECT_TRUE(a.client.expect_line("*** Unknown command /xyz; try /help."));
  EXPECT_TRUE(a.client.expect_line("*** Unknown command /; try /help."));
  EXPECT_TRUE(a.client.expect_line("*** Unknown command /nickname; try /help."));
  EXPECT_TRUE(a.client.expect_line("*** Unknown command /x?; try /help."));
  EXPECT_TRUE(expect_nothing_before_marker(a, b));
}

TEST(Unknown, AloneStillAnswered) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  a.client.send("/xyz\n");
  EXPECT_TRUE(a.client.expect_line("*** Unknown command /xyz; try /help."));
}

TEST(DoubleSlash, SendsTheChatLineWithOneSlash) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  a.client.send("//nick x\n//\n");
  EXPECT_TRUE(b.client.expect_line(lines::says(a.id, "/nick x")));
  EXPECT_TRUE(b.client.expect_line(lines::says(a.id, "/")));
  b.client.close();
  ASSERT_TRUE(a.client.expect_line(lines::left(b.id, 1)));
  a.client.send("//alone\n");
  EXPECT_TRUE(a.client.expect_line(lines::kAlone));
}

}  // namespace
}  // namespace epollchat::test
