// /me: others see "* NAME action"; the sender gets nothing back.
#include <gtest/gtest.h>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(Action, OthersSeeItSenderDoesNot) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  a.client.send("/me waves\n");
  EXPECT_TRUE(b.client.expect_line(lines::action(lines::client_name(a.id), "waves")));
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));
  a.client.send("/me  waves \x1b[1m back\n");
  EXPECT_TRUE(b.client.expect_line("* alice waves ?[1m back"));
  // a's next line is b's marker: no echo of its own actions.
  EXPECT_TRUE(expect_nothing_before_marker(b, a));
}

TEST(Action, EmptyIsAUsageNotice) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  a.client.send("/me\n/me   \n");
  EXPECT_TRUE(a.client.expect_line("*** Usage: /me ACTION"));
  EXPECT_TRUE(a.client.expect_line("*** Usage: /me ACTION"));
  EXPECT_TRUE(expect_nothing_before_marker(a, b));
}

TEST(Action, AloneIsToldAsForChat) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  a.client.send("/me waves\n");
  EXPECT_TRUE(a.client.expect_line(lines::kAlone));
}

}  // namespace
}  // namespace epollchat::test
