// Welcome lines and client ids: ids start at 1, increase, and are never reused while the
// daemon lives, even when the kernel reuses the fd of a client that left.
#include <gtest/gtest.h>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(WelcomeIds, FirstClientsAreWelcomedAsOneAndTwo) {
  DaemonProcess daemon;
  ChatClient first(daemon.port());
  EXPECT_TRUE(first.expect_line(lines::welcome(1)));
  ChatClient second(daemon.port());
  EXPECT_TRUE(second.expect_line(lines::welcome(2)));
}

TEST(WelcomeIds, IdsKeepIncreasingWhenFdsAreReused) {
  DaemonProcess daemon;
  Member observer = join(daemon.port());
  ASSERT_EQ(observer.id, 1);
  // Each client leaves (and the observer sees it leave) before the next connects, so the
  // server's accept returns the same fd again; the id must still be new.
  for (int expected = 2; expected <= 12; ++expected) {
    ChatClient client(daemon.port());
    ASSERT_TRUE(client.expect_line(lines::welcome(expected)));
    ASSERT_TRUE(observer.client.expect_line(lines::joined(expected, 2)));
    client.close();
    ASSERT_TRUE(observer.client.expect_line(lines::left(expected, 1)));
  }
}

}  // namespace
}  // namespace epollchat::test
