// max-clients: when the room is full a newcomer is told and closed; the members are not
// disturbed, and a slot frees when someone leaves.
#include <gtest/gtest.h>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

DaemonOptions two_clients() { return DaemonOptions::with_args({"--max-clients", "2"}); }

TEST(MaxClients, ClientBeyondTheLimitIsToldAndClosed) {
  DaemonProcess daemon(two_clients());
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));

  ChatClient refused(daemon.port());
  EXPECT_TRUE(refused.expect_line(lines::server_full(2)));
  const auto rest = refused.read_until_closed();
  ASSERT_TRUE(rest.has_value()) << "the refused client was not closed";
  EXPECT_EQ(*rest, "");

  // The members saw no join or leave for the refused client: their next line is a chat line.
  b.client.send("still two of us\n");
  EXPECT_TRUE(a.client.expect_line(lines::says(b.id, "still two of us")));
}

TEST(MaxClients, SlotFreedByALeaveIsUsable) {
  DaemonProcess daemon(two_clients());
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
  b.client.close();
  ASSERT_TRUE(a.client.expect_line(lines::left(b.id, 1)));

  Member c = join(daemon.port());
  EXPECT_TRUE(a.client.expect_line(lines::joined(c.id, 2)));
}

}  // namespace
}  // namespace epollchat::test
