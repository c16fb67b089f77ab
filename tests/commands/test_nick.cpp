// /nick: renaming, the notices about it, its errors, and the registry's lifetime.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(Nick, OthersAreToldAndSenderGetsConfirmation) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());

  ASSERT_TRUE(take_nickname(a, "alice"));
  EXPECT_TRUE(b.client.expect_line(lines::known_as(lines::client_name(a.id), "alice")));
  a.client.send("hi\n");
  EXPECT_TRUE(b.client.expect_line("alice says >> hi"));

  ASSERT_TRUE(take_nickname(a, "Alice_2"));
  EXPECT_TRUE(b.client.expect_line("*** alice is now known as Alice_2"));
  // A change of case of one's own name is a rename too.
  ASSERT_TRUE(take_nickname(a, "ALICE_2"));
  EXPECT_TRUE(b.client.expect_line("*** Alice_2 is now known as ALICE_2"));
  a.client.send("/nick ALICE_2\n");
  EXPECT_TRUE(a.client.expect_line("*** You are already known as ALICE_2."));
  EXPECT_TRUE(expect_nothing_before_marker(a, b));
}

TEST(Nick, TakenCaseInsensitively) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));

  b.client.send("/nick ALICE\n");
  EXPECT_TRUE(b.client.expect_line("*** Nickname ALICE is taken."));
  EXPECT_TRUE(expect_nothing_before_marker(b, a));
}

TEST(Nick, InvalidNamesAreRefusedWithAReason) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  const std::string malformed = "*** Invalid nickname: use 1-24 letters, digits, _ or -";
  const std::vector<std::string> malformed_names = {"two words",          "a!b",      "caf\xc3\xa9",
                                                    std::string(25, 'x'), "a\x1b[2J", "#3"};
  for (const std::string& name : malformed_names) {
    a.client.send("/nick " + name + "\n");
    EXPECT_TRUE(a.client.expect_line(malformed)) << name;
  }
  for (const std::string name : {"Client", "client7", "CLIENT_x"}) {
    a.client.send("/nick " + name + "\n");
    EXPECT_TRUE(
        a.client.expect_line("*** Invalid nickname: names starting with Client are reserved"))
        << name;
  }
  a.client.send("/nick\n");
  EXPECT_TRUE(a.client.expect_line("*** Usage: /nick NAME"));
  EXPECT_TRUE(take_nickname(a, std::string(24, 'x')));
  EXPECT_TRUE(
      b.client.expect_line(lines::known_as(lines::client_name(a.id), std::string(24, 'x'))));
}

TEST(Nick, AloneStillGetsReplies) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  EXPECT_TRUE(take_nickname(a, "solo"));
  a.client.send("/nick client\n");
  EXPECT_TRUE(
      a.client.expect_line("*** Invalid nickname: names starting with Client are reserved"));
}

TEST(Nick, LeaveNoticeUsesNameAndFreesIt) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));

  a.client.close();
  EXPECT_TRUE(b.client.expect_line("*** alice left (1 online)"));
  EXPECT_TRUE(take_nickname(b, "Alice"));

  // A renamed client's old name is free at once.
  Member c = join(daemon.port());
  ASSERT_TRUE(b.client.expect_line(lines::joined(c.id, 2)));
  ASSERT_TRUE(take_nickname(b, "bob"));
  EXPECT_TRUE(take_nickname(c, "alice"));
}

TEST(Nick, FreedAfterQuit) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));
  a.client.send("/quit\n");
  EXPECT_TRUE(b.client.expect_line("*** alice left (1 online)"));
  EXPECT_TRUE(take_nickname(b, "alice"));
}

}  // namespace
}  // namespace epollchat::test
