// Commands keep their place among chat lines: what one read carries arrives in order.
#include <gtest/gtest.h>

#include <string>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(CommandOrder, NoticesKeepTheirPlaceAmongStagedChat) {
  DaemonProcess daemon;
  auto [a, b, c] = join_quiet<3>(daemon.port());

  // One send, so the server most likely reads it at once and stages the chat lines.
  a.client.send("one\n/nick alice\ntwo\n/me waves\nthree\n/msg #" + std::to_string(b.id) +
                " psst\nfour\n/who\n/xyz\nfive\n");
  for (Member* other : {&b, &c}) {
    EXPECT_TRUE(other->client.expect_line(lines::says(a.id, "one")));
    EXPECT_TRUE(other->client.expect_line(lines::known_as(lines::client_name(a.id), "alice")));
    EXPECT_TRUE(other->client.expect_line("alice says >> two"));
    EXPECT_TRUE(other->client.expect_line("* alice waves"));
    EXPECT_TRUE(other->client.expect_line("alice says >> three"));
    if (other == &b) {
      EXPECT_TRUE(b.client.expect_line("alice whispers >> psst"));
    }
    EXPECT_TRUE(other->client.expect_line("alice says >> four"));
    EXPECT_TRUE(other->client.expect_line("alice says >> five"));
  }
  EXPECT_TRUE(a.client.expect_line("*** You are now known as alice."));
  EXPECT_TRUE(a.client.expect_line(lines::sent_to(lines::client_name(b.id))));
  EXPECT_TRUE(a.client.expect_line(
      lines::who_reply({"alice", lines::client_name(b.id), lines::client_name(c.id)})));
  EXPECT_TRUE(a.client.expect_line("*** Unknown command /xyz; try /help."));
}

}  // namespace
}  // namespace epollchat::test
