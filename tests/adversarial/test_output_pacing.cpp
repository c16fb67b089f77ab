// Output pacing: a heavy sender is judged on what it makes the server queue for each
// recipient, not on the bytes it sends. A 1-character line is 2 bytes of input, and the
// server sends every recipient the sender's name too ("Client #2 says >> a\n" is 20 bytes;
// with a 24-character nickname it is 35), so a sender of short lines that stays far under
// 64 KiB/s of input can still flood its readers at many times that.
//
// --max-rate 0 and a small max-backlog. P, with a 24-character nickname, writes
// 1-character lines at about 50 KB/s of input (some 850 KB/s of output per recipient); R,
// with small buffers, reads steadily at about a third of that, up to 16 KB every 50 ms, so
// it is congested but never stalled. P must be paused while R is congested: R is never cut
// off and gets every line, in order. (With no backlog limit to hit, R reads the 2.8 MB in
// about 11 s.)
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kMaxBacklog = 256 * 1024;
// Each write is the same 520 lines, a to z 20 times over (1,040 bytes).
constexpr long kLinesPerWrite = 520;
constexpr long kWrites = 154;  // 80,080 lines: 160 KB of input, 2.8 MB of output for R
constexpr long kLines = kLinesPerWrite * kWrites;
// One write every 21 ms: at most 50 KB/s of input. The pause is what sets the pace, so a
// late write is never made up for with a burst.
constexpr auto kWriteInterval = std::chrono::milliseconds(21);
constexpr ReadPace kReaderPace{16 * 1024, std::chrono::milliseconds(50)};
constexpr std::string_view kPacerName = "pacer_with_a_long_name_x";

// The text of line `n`: one letter, 'a' to 'z' in turn, so a lost or reordered line shows.
char letter(long n) { return static_cast<char>('a' + n % 26); }

TEST(OutputPacing, SenderOfShortLinesIsPausedForACongestedReader) {
  DaemonProcess daemon(
      DaemonOptions::with_args({"--max-rate", "0", "--max-backlog", std::to_string(kMaxBacklog)}));
  NotifyDrain notify_drain(daemon.notify());

  const UniqueFd reader_fd = connect_with_small_buffers(daemon.port(), 16 * 1024, 536);
  const std::string says = lines::says(kPacerName, "");
  bool welcomed = false;
  long received = 0;
  bool ended = false;
  std::string error;
  BackgroundLines reader(
      {reader_fd.get()},
      [&](std::size_t, std::string_view line) {
        if (lines::parse_welcome_id(line)) welcomed = true;
        if (!line.starts_with(says)) return;
        line.remove_prefix(says.size());
        if (line == "end") {
          ended = true;
        } else if (line.size() != 1 || line[0] != letter(received++)) {
          if (error.empty())
            error = "line " + std::to_string(received - 1) + " lost or out of order";
        }
      },
      kReaderPace);
  ASSERT_TRUE(reader.wait_until([&] { return welcomed; }, 10s)) << "R not welcomed";
  Member pacer = join(daemon.port());
  pacer.client.send("/nick " + std::string(kPacerName) + "\n");
  ASSERT_TRUE(pacer.client.skip_until_line(lines::now_known_as(kPacerName)));

  std::string sender_error;
  const auto start = Clock::now();
  std::thread sender([&] {
    try {
      std::string lines_of_one_write;
      for (long n = 0; n < kLinesPerWrite; ++n) lines_of_one_write += {letter(n), '\n'};
      for (long write = 0; write < kWrites; ++write) {
        pacer.client.send(lines_of_one_write, 60s);
        std::this_thread::sleep_for(kWriteInterval);
      }
      pacer.client.send("end\n", 60s);
    } catch (const std::exception& failure) {
      sender_error = failure.what();
    }
  });
  const bool complete = reader.wait_until([&] { return ended; }, 120s);
  sender.join();
  const double seconds = elapsed_ms(start) / 1000.0;
  const long got = reader.locked([&] { return received; });
  const std::size_t bytes = reader.bytes_received(0);
  const bool cut_off = reader.is_closed(0);

  std::cout << "P sent " << kLines << " one-character lines (" << 2 * kLines / 1000
            << " KB, at most " << 2 * kLinesPerWrite / kWriteInterval.count() << " KB/s); R read "
            << bytes / 1024 << " KiB in " << seconds << " s ("
            << static_cast<double>(bytes) / 1024 / seconds << " KiB/s) and got " << got << " lines"
            << (cut_off ? ", then was cut off" : "") << "\n";
  EXPECT_FALSE(cut_off) << "R, reading steadily, was cut off after " << got << " of " << kLines
                        << " lines";
  EXPECT_EQ(sender_error, "");
  EXPECT_EQ(reader.locked([&] { return error; }), "");
  EXPECT_TRUE(complete);
  EXPECT_EQ(got, kLines);
}

}  // namespace
}  // namespace epollchat::test
