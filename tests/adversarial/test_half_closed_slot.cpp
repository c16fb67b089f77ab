// Half-closed slot: a client that half-closes (shutdown(SHUT_WR)) while output is queued
// for it, and then never reads, leaves the room at once but keeps its connection, which
// the server only flushes. A connection that is only flushing and takes no output for
// 10 s is closed, so it gives its slot back: with --max-clients 2 a newcomer is refused
// until then and welcomed afterwards.
//
// The queued output stays under half of max-backlog, so the client is never congested and
// the stalled-reader cut-off does not apply.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <iostream>
#include <optional>
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

// 400 /help replies: about 360 KB, more than the server's socket buffer to a client with
// small buffers takes (some 200 KB), less than half of max-backlog.
constexpr int kHelps = 400;
constexpr auto kRetryInterval = std::chrono::milliseconds(500);
constexpr auto kLimit = std::chrono::seconds(20);

TEST(HalfClosedSlot, FlushingClientThatTakesNothingGivesUpItsSlot) {
  DaemonProcess daemon(DaemonOptions::with_args({"--max-clients", "2"}));
  NotifyDrain notify_drain(daemon.notify());
  Member observer = join(daemon.port());

  const UniqueFd half_closed = connect_with_small_buffers(daemon.port(), 4096, 536);
  const auto joined = observer.client.read_line();
  ASSERT_TRUE(joined && joined->ends_with(" joined (2 online)")) << "no join notice";
  std::string helps;
  for (int i = 0; i < kHelps; ++i) helps += "/help\n";
  PendingOutput requests;
  requests.append(helps);
  ASSERT_TRUE(requests.send_all(half_closed.get(), Deadline(10s)));
  ASSERT_EQ(::shutdown(half_closed.get(), SHUT_WR), 0);
  // Its EOF makes it leave the room; the server then only flushes it.
  const auto left = observer.client.read_line(10s);
  ASSERT_TRUE(left && left->ends_with(" left (1 online)"))
      << "the observer was not told that the half-closed client left";
  const auto finished = Clock::now();

  // Newcomers are refused while the half-closed client holds its slot; time is what this
  // waits for, so it tries again every half second.
  int refused = 0;
  std::optional<double> welcomed_after;
  const Deadline deadline(kLimit);
  while (!deadline.has_expired()) {
    ChatClient newcomer(daemon.port());
    const auto line = newcomer.read_line(10s);
    ASSERT_TRUE(line.has_value()) << "a newcomer got no first line";
    if (lines::parse_welcome_id(*line)) {
      welcomed_after = elapsed_ms(finished) / 1000.0;
      break;
    }
    ASSERT_EQ(*line, lines::server_full(2));
    ++refused;
    std::this_thread::sleep_for(kRetryInterval);
  }
  std::cout << "a half-closed client that takes nothing held its slot; " << refused
            << " newcomers were refused, then "
            << (welcomed_after
                    ? "one was welcomed " + std::to_string(*welcomed_after) +
                          " s after the client finished sending"
                    : "none was welcomed within " + std::to_string(kLimit.count()) + " s")
            << "\n";
  EXPECT_TRUE(welcomed_after.has_value())
      << "the half-closed client still held its slot " << kLimit.count() << " s later";
}

}  // namespace
}  // namespace epollchat::test
