// Join and leave notices with the online count, and the notice to a client who is alone.
#include <gtest/gtest.h>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(MembershipNotices, OthersSeeJoinsAndLeavesWithOnlineCount) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  EXPECT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));

  Member c = join(daemon.port());
  EXPECT_TRUE(a.client.expect_line(lines::joined(c.id, 3)));
  EXPECT_TRUE(b.client.expect_line(lines::joined(c.id, 3)));

  b.client.close();
  EXPECT_TRUE(a.client.expect_line(lines::left(b.id, 2)));
  // c's first line after its welcome: it was not told about its own join.
  EXPECT_TRUE(c.client.expect_line(lines::left(b.id, 2)));

  a.client.reset();  // an abortive close is a leave too
  EXPECT_TRUE(c.client.expect_line(lines::left(a.id, 1)));
}

TEST(MembershipNotices, LoneSenderIsToldItIsAlone) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  a.client.send("is anyone here?\n");
  EXPECT_TRUE(a.client.expect_line(lines::kAlone));
}

TEST(MembershipNotices, SenderLeftAloneAfterOthersLeaveIsTold) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
  b.client.close();
  ASSERT_TRUE(a.client.expect_line(lines::left(b.id, 1)));
  a.client.send("hello?\n");
  EXPECT_TRUE(a.client.expect_line(lines::kAlone));
}

}  // namespace
}  // namespace epollchat::test
