// Paused line timeout: while the server is not reading a connection (it paused a heavy
// sender because a recipient is congested), the age of that connection's incomplete line
// does not grow, so `line-timeout` never fires for a wait the server caused.
//
// --line-timeout 2. SR, a slow reader with small buffers, is kept congested by H's flood
// for well over 2 s while making progress (so it is never cut off as stalled). S sends
// 100 KB of lines and the start of one more, in one write: a heavy sender, so the server
// pauses it with an incomplete line pending. S must get no "*** Line timeout" notice and
// stay connected; once SR catches up, S completes its line and it is delivered.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kLineTimeoutSeconds = 2;
// Large enough that SR, draining about 100 KB/s, stays above a quarter of it (congested)
// for many seconds after H's flood took it over half.
constexpr std::size_t kMaxBacklog = 4 * 1024 * 1024;
constexpr std::size_t kLineSize = 1000;  // bytes per line, LF included
constexpr long kSenderLines = 100;       // 100 KB: over the 64 KiB that makes a heavy sender
// The server's reading of S crossed 64 KiB (so S is heavy, and paused) once this many of
// its lines came through.
constexpr long kHeavyAfterLines = 64 * 1024 / kLineSize + 2;
// Well past the timeout: the timeout is checked once a second, so a line older than 2 s
// is cut within 3 s.
constexpr std::chrono::seconds kPausedFor(4);
constexpr ReadPace kSlowReader{8 * 1024, std::chrono::milliseconds(50)};

TEST(PausedLineTimeout, PausedSenderWithIncompleteLineIsNotTimedOut) {
  DaemonProcess daemon(
      DaemonOptions::with_args({"--line-timeout", std::to_string(kLineTimeoutSeconds), "--max-rate",
                                "0", "--max-backlog", std::to_string(kMaxBacklog)}));
  NotifyDrain notify_drain(daemon.notify());
  Member reader = join(daemon.port());
  Member heavy = join(daemon.port());
  Member sender = join(daemon.port());
  const UniqueFd slow = connect_with_small_buffers(daemon.port(), 4096, 536);
  bool slow_welcomed = false;
  BackgroundLines slow_reader(
      {slow.get()},
      [&](std::size_t, std::string_view line) {
        if (lines::parse_welcome_id(line)) slow_welcomed = true;
      },
      kSlowReader);
  ASSERT_TRUE(slow_reader.wait_until([&] { return slow_welcomed; }, 10s)) << "SR not welcomed";

  // R (index 0) checks S's lines; S (index 1) reads all it is sent (H's flood too) and
  // watches for the timeout notice.
  const std::string completed = "unfinished line, completed";
  long sender_lines = 0;
  bool delivered = false;
  std::string error;
  std::string notice;
  BackgroundLines readers({reader.client.fd(), sender.client.fd()},
                          [&](std::size_t who, std::string_view line) {
                            if (who == 1) {
                              if (line.starts_with("*** Line timeout")) notice = line;
                              return;
                            }
                            const auto chat = lines::parse_chat_line(line);
                            if (!chat || chat->sender != sender.id) return;
                            if (chat->text == completed) {
                              delivered = true;
                            } else if (std::string(chat->text) + "\n" !=
                                       numbered_lines("s ", sender_lines++, 1, kLineSize)) {
                              if (error.empty())
                                error = "S's line " + std::to_string(sender_lines - 1) + " damaged";
                            }
                          });

  // H floods until the server stops reading it: SR is congested.
  PendingOutput flood;
  long next = 0;
  ASSERT_TRUE(write_until_not_read(
      flood, heavy.client.fd(), [&] { return numbered_lines("h ", next++, 1, kLineSize); }, 1s,
      Deadline(60s)))
      << "the server kept reading H while SR was congested";

  // S: 100 KB of lines and the start of one more. Once 64 KiB of it came through, S is a
  // heavy sender while SR is congested: paused, with an incomplete line.
  sender.client.send(numbered_lines("s ", 0, kSenderLines, kLineSize) + "unfinished line");
  ASSERT_TRUE(readers.wait_until([&] { return sender_lines >= kHeavyAfterLines; }, 10s))
      << "S's first 64 KiB did not reach R";
  const auto paused = Clock::now();
  (void)readers.wait_until([&] { return !notice.empty(); }, kPausedFor);
  const long relayed_while_paused = readers.locked([&] { return sender_lines; });
  EXPECT_EQ(readers.locked([&] { return notice; }), "")
      << "S was timed out while the server was not reading it";
  ASSERT_FALSE(readers.is_closed(1)) << "S was disconnected while paused";
  ASSERT_FALSE(slow_reader.is_closed(0))
      << "SR was cut off: the congestion that pauses S ended early";
  const std::size_t slow_bytes = slow_reader.bytes_received(0);

  // SR catches up, the server reads S again, and S completes its line.
  slow_reader.read_freely();
  sender.client.send(", completed\n");
  ASSERT_TRUE(readers.wait_until([&] { return delivered; }, 30s))
      << "S's completed line did not reach R; R has " << sender_lines << " of its lines";
  const double waited = elapsed_ms(paused) / 1000.0;
  EXPECT_EQ(readers.locked([&] { return error; }), "");
  EXPECT_EQ(readers.locked([&] { return sender_lines; }), kSenderLines);
  EXPECT_EQ(readers.locked([&] { return notice; }), "");
  std::cout << "S waited paused with an incomplete line for " << kPausedFor.count()
            << " s (--line-timeout " << kLineTimeoutSeconds << "; " << relayed_while_paused
            << " of its " << kSenderLines << " lines relayed before the pause) while SR read "
            << slow_bytes / 1024 << " KiB; its completed line arrived " << waited
            << " s after the pause began\n";
}

}  // namespace
}  // namespace epollchat::test
