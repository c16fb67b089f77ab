// Broadcast: a chat line goes to every other client, in the order sent, and never back to
// its sender.
#include <gtest/gtest.h>

#include <string>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(Broadcast, LineReachesEveryOtherClientButNotTheSender) {
  DaemonProcess daemon;
  auto [a, b, c] = join_quiet<3>(daemon.port());

  a.client.send("hello everyone\n");
  EXPECT_TRUE(b.client.expect_line(lines::says(a.id, "hello everyone")));
  EXPECT_TRUE(c.client.expect_line(lines::says(a.id, "hello everyone")));

  // The next thing a receives is c's reply, so a's own line was not echoed to it.
  c.client.send("hi a\n");
  EXPECT_TRUE(a.client.expect_line(lines::says(c.id, "hi a")));
  EXPECT_TRUE(b.client.expect_line(lines::says(c.id, "hi a")));
}

TEST(Broadcast, LinesFromOneSenderArriveInOrder) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
  constexpr int kLines = 500;
  for (int i = 0; i < kLines; ++i) a.client.send("line " + std::to_string(i) + "\n");
  for (int i = 0; i < kLines; ++i) {
    ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "line " + std::to_string(i))));
  }
}

}  // namespace
}  // namespace epollchat::test
