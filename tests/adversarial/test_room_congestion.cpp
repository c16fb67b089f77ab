// Room congestion: congestion is per room. Room A holds a heavy sender (HA) and a slow
// reader (SR) that takes a little every quarter second: its output stays congested, but it
// makes progress, so it is never cut off as stalled, and HA is paused. Room B holds a heavy
// sender (HB) flooding megabytes and a reader (RB) that reads everything. Nothing in room B
// waits for SR: RB receives all of HB's lines, in order, within a generous deadline.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
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

constexpr std::size_t kLineSize = 1000;  // bytes per line, LF included
constexpr long kRoomBLines = 20000;      // 20 MB from HB
// RB has them in a second or so; paused as long as SR is congested, HB gets a batch through
// only when SR briefly drops below a quarter of max-backlog, some 400 KB/s at best.
constexpr std::chrono::seconds kDeadline(15);
// SR's pace: about 100 KB/s (each read takes what its 4 KB window let in), far slower than
// HA could send, fast enough that the server sees its socket take output every half second
// or so (its buffers are small: see connect_with_small_buffers).
constexpr ReadPace kSlowReader{8 * 1024, std::chrono::milliseconds(50)};

TEST(RoomCongestion, SlowReaderInOneRoomDoesNotHoldBackAnother) {
  DaemonProcess daemon(DaemonOptions::with_args({"--max-rate", "0"}));
  NotifyDrain notify_drain(daemon.notify());

  // Room A: HA, then SR.
  Member heavy_a = join(daemon.port());
  ASSERT_TRUE(join_room_after_notices(heavy_a, "a", 1, 10s));
  const UniqueFd slow = connect_with_small_buffers(daemon.port(), 4096, 536);
  int slow_id = 0;
  BackgroundLines slow_reader(
      {slow.get()},
      [&](std::size_t, std::string_view line) {
        if (const auto id = lines::parse_welcome_id(line)) slow_id = *id;
      },
      kSlowReader);
  ASSERT_TRUE(slow_reader.wait_until([&] { return slow_id != 0; }, 10s)) << "SR not welcomed";
  ASSERT_EQ(::send(slow.get(), "/join a\n", 8, MSG_NOSIGNAL), 8);
  ASSERT_TRUE(heavy_a.client.skip_until_line(lines::joined(slow_id, 2)));

  // Room B: HB, then RB, who reads everything and checks HB's lines.
  Member heavy_b = join(daemon.port());
  ASSERT_TRUE(join_room_after_notices(heavy_b, "b", 1, 10s));
  Member reader_b = join(daemon.port());
  ASSERT_TRUE(join_room_after_notices(reader_b, "b", 2, 10s));
  long room_b_lines = 0;
  std::string error;
  BackgroundLines room_b({reader_b.client.fd()}, [&](std::size_t, std::string_view line) {
    const auto chat = lines::parse_chat_line(line);
    if (!chat || chat->sender != heavy_b.id) return;
    if (error.empty() &&
        std::string(chat->text) + "\n" != numbered_lines("b ", room_b_lines, 1, kLineSize)) {
      error = "line " + std::to_string(room_b_lines) + " of HB missing, damaged or out of order";
    }
    ++room_b_lines;
  });

  // HA floods until the server stops reading it (SR is congested), and keeps its socket
  // full from then on, so SR stays congested.
  PendingOutput flood_a;
  long next_a = 0;
  const auto next_line_a = [&] { return numbered_lines("a ", next_a++, 1, kLineSize); };
  ASSERT_TRUE(write_until_not_read(flood_a, heavy_a.client.fd(), next_line_a, 1s, Deadline(30s)))
      << "the server kept reading HA while SR was congested";
  std::atomic<bool> stop = false;
  std::thread keep_flooding_a([&] {
    try {
      while (!stop) {
        while (flood_a.size() < 256 * 1024) flood_a.append(next_line_a());
        if (flood_a.send_to(heavy_a.client.fd()) == SendOutcome::peer_gone) break;
        (void)wait_writable(heavy_a.client.fd(), 100ms);
      }
    } catch (const std::exception&) {
      // HA's connection failed; SR's state below tells what happened.
    }
  });

  // HB floods room B.
  const auto start = Clock::now();
  PendingOutput flood_b;
  flood_b.append(numbered_lines("b ", 0, kRoomBLines, kLineSize));
  const Deadline deadline(kDeadline);
  const bool sent = flood_b.send_all(heavy_b.client.fd(), deadline);
  const bool received =
      sent && room_b.wait_until([&] { return room_b_lines == kRoomBLines; }, deadline.remaining());
  const double seconds = elapsed_ms(start) / 1000.0;
  const long got = room_b.locked([&] { return room_b_lines; });
  const std::size_t slow_bytes = slow_reader.bytes_received(0);
  const bool slow_closed = slow_reader.is_closed(0);
  stop = true;
  keep_flooding_a.join();

  std::cout << "room B: " << got << " of HB's " << kRoomBLines << " lines of " << kLineSize
            << " B reached RB in " << seconds << " s while SR in room A read " << slow_bytes / 1024
            << " KiB at " << kSlowReader.bytes / 1024 << " KiB every "
            << kSlowReader.interval.count() << " ms" << (slow_closed ? " and was cut off" : "")
            << "\n";
  EXPECT_EQ(room_b.locked([&] { return error; }), "");
  EXPECT_TRUE(sent) << "the server stopped reading HB: room B waited for SR in room A";
  EXPECT_TRUE(received) << "RB got " << got << " of HB's " << kRoomBLines << " lines within "
                        << kDeadline.count() << " s";
  EXPECT_FALSE(slow_closed) << "SR, congested but reading, was cut off";
}

}  // namespace
}  // namespace epollchat::test
