// Idle wake-ups: once the last congested reader is gone, and no sender was paused for it,
// an idle daemon sleeps in epoll_wait until something happens. Nothing may keep a timer
// firing for congestion that is over (a stall check every 250 ms, forever).
//
// --line-timeout 0 (no line-timeout sweep). C, with small buffers, asks for 1,000 /help
// (some 900 KB of replies: over half of max-backlog, so congested, under max-backlog) and
// quits without reading; the server is left flushing it. C then resets its connection.
// Over the next 3 s the daemon's main thread may wake only a few times (its voluntary
// context switches).
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <thread>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kHelps = 1000;
constexpr auto kIdleFor = std::chrono::seconds(3);
// A status report after the last change, and slack; a 250 ms timer would be 12.
constexpr long kMaxWakeups = 4;

TEST(IdleWakeups, DaemonSleepsAfterTheLastCongestedReaderLeaves) {
  DaemonProcess daemon(DaemonOptions::with_args({"--line-timeout", "0"}));
  NotifyDrain notify_drain(daemon.notify());
  Member observer = join(daemon.port());

  UniqueFd congested = connect_with_small_buffers(daemon.port(), 4096, 536);
  const auto joined = observer.client.read_line();
  ASSERT_TRUE(joined && joined->ends_with(" joined (2 online)")) << "no join notice";
  std::string requests;
  for (int i = 0; i < kHelps; ++i) requests += "/help\n";
  requests += "/quit congested\n";
  PendingOutput output;
  output.append(requests);
  ASSERT_TRUE(output.send_all(congested.get(), Deadline(10s)));
  // The leave notice follows every /help: all of C's replies are queued by now.
  const auto left = observer.client.read_line(10s);
  ASSERT_TRUE(left && left->ends_with(" left (1 online): congested"))
      << "the observer was not told that C quit";

  // C resets its connection. A request of the observer's, made afterwards, is answered
  // after the server has handled the reset.
  const linger reset_on_close{1, 0};
  ASSERT_EQ(
      ::setsockopt(congested.get(), SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close),
      0);
  congested.reset();
  observer.client.send("/who\n");
  ASSERT_TRUE(observer.client.expect_line(lines::who_reply({lines::client_name(observer.id)})));

  const long before = voluntary_context_switches(daemon.pid());
  std::this_thread::sleep_for(kIdleFor);  // the idle time is what is measured
  const long wakeups = voluntary_context_switches(daemon.pid()) - before;
  std::cout << "after the last congested reader left, the idle daemon woke " << wakeups
            << " times in " << kIdleFor.count() << " s\n";
  EXPECT_LE(wakeups, kMaxWakeups) << "the idle daemon keeps waking up";
}

}  // namespace
}  // namespace epollchat::test
