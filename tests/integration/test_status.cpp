// STATUS=: READY=1 carries the listening address; later STATUS= lines report clients online
// and messages relayed, within about a second of a change (rate-limited).
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

// A change is reported within about a second; allow scheduling slack on a loaded CI box.
constexpr auto kStatusTimeout = 2500ms;

std::optional<NotifyMessage> wait_for_status(DaemonProcess& daemon, const std::string& status) {
  return daemon.notify().wait_for(
      [&](const NotifyMessage& message) { return message.field("STATUS") == status; },
      kStatusTimeout);
}

TEST(Status, ReadyCarriesTheListeningAddress) {
  DaemonProcess daemon;
  EXPECT_EQ(daemon.ready_message().field("STATUS"),
            "Listening on 127.0.0.1:" + std::to_string(daemon.port()));
}

TEST(Status, ClientsOnlineAndMessagesRelayedAreReportedPromptly) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  auto start = Clock::now();
  const auto two = wait_for_status(daemon, "2 clients online, 0 messages relayed");
  EXPECT_TRUE(two.has_value()) << "no 'STATUS=2 clients online, 0 messages relayed'";
  if (two) std::cout << "two clients reported after " << elapsed_ms(start) << " ms\n";

  a.client.send("counted\n");
  ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "counted")));
  start = Clock::now();
  const auto relayed = wait_for_status(daemon, "2 clients online, 1 message relayed");
  EXPECT_TRUE(relayed.has_value()) << "no 'STATUS=2 clients online, 1 message relayed'";
  if (relayed) std::cout << "relayed message reported after " << elapsed_ms(start) << " ms\n";

  b.client.close();
  start = Clock::now();
  const auto one = wait_for_status(daemon, "1 client online, 1 message relayed");
  EXPECT_TRUE(one.has_value()) << "no 'STATUS=1 client online, 1 message relayed'";
  if (one) std::cout << "leave reported after " << elapsed_ms(start) << " ms\n";
}

}  // namespace
}  // namespace epollchat::test
