// Refusals: a client turned away because the server is full reads the whole
// "*** Server full (N clients); try again later." notice even if it sends a line right
// after connecting. Closing a socket with unread input makes the kernel send RST, which can
// destroy the refused client's copy of the notice, so the server reads what the client sent
// before it closes, and lingers.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kAttempts = 100;

TEST(Refusals, RefusedClientThatSendsAtOnceStillReadsTheNotice) {
  DaemonProcess daemon(DaemonOptions::with_args({"--max-clients", "1"}));
  NotifyDrain notify_drain(daemon.notify());
  Member held = join(daemon.port());

  int whole = 0;
  std::string first_failure;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ChatClient refused(daemon.port());
    refused.send("hello, is there room?\n");
    const auto line = refused.read_line(10s);
    if (line == lines::server_full(1)) {
      ++whole;
    } else if (first_failure.empty()) {
      first_failure = "attempt " + std::to_string(attempt) + ": " +
                      (line ? "got \"" + escape_bytes(*line) + "\""
                            : std::string(refused.was_reset()     ? "connection reset"
                                          : refused.peer_closed() ? "connection closed"
                                                                  : "nothing within 10 s") +
                                  (refused.buffered_bytes() > 0 ? " after a partial line" : ""));
    }
  }
  std::cout << whole << " of " << kAttempts
            << " refused clients that sent a line at once read the whole notice\n";
  EXPECT_EQ(whole, kAttempts) << "first failure: " << first_failure;

  // The held client was not disturbed.
  held.client.send("still here\n");
  EXPECT_TRUE(held.client.expect_line(lines::kAlone));
}

}  // namespace
}  // namespace epollchat::test
