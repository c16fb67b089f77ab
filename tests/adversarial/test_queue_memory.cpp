// Queue memory: max-backlog bounds the memory a client's queued output holds, however that
// output is fragmented. Lines are formatted into shared 64 KiB chunks, and a queue refers
// to them; a queue holding one short line in each of many chunks would otherwise keep every
// one of those chunks alive for a few bytes each.
//
// C never reads and sends long lines that fill the room's chunks; between two batches of
// C's lines M says a 1-character line, so each of M's lines (queued for C) lands in a chunk
// of its own. C's pending payload stays far below half of max-backlog, so C is never
// congested nor cut off; what grows is only what its queue keeps alive. The daemon's RSS
// must stay within about twice max-backlog of where it started.
#include <gtest/gtest.h>

#include <sys/ioctl.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kMaxBacklog = 1024 * 1024;  // the default
constexpr std::size_t kChunkSize = 64 * 1024;     // the room's chunks
constexpr std::size_t kLongLine = 4000;           // bytes per line, LF included
// Just over one chunk of C's formatted lines between two of M's lines.
constexpr long kLongLinesPerStep = kChunkSize / kLongLine + 1;
constexpr long kSteps = 500;  // M's lines, each in a chunk of its own
// M fills C's socket buffers (the server's send buffer to C grows to megabytes) in steps
// of this many long lines, until this much waits in the server, in front of M's lines: well
// under half of max-backlog, and enough that the kernel's taking a little more later (its
// send buffer can grow) does not reach M's lines.
constexpr long kFillLinesPerStep = 8;
constexpr std::size_t kQueuedInServer = 384 * 1024;

TEST(QueueMemory, FragmentedQueueOfAClientThatDoesNotReadStaysBounded) {
  // Compacting a queue frees the chunks it held.
  DaemonOptions options = DaemonOptions::with_args({"--max-rate", "0"});
  DaemonProcess daemon(with_small_asan_quarantine(options));
  NotifyDrain notify_drain(daemon.notify());
  auto [reader, tiny] = join_quiet<2>(daemon.port());
  Member sender = join(daemon.port(), ConnectOptions::with_receive_buffer(4096));

  // R and M read everything; R tells the test how far the room got, M's replies to
  // "/rooms" that the server finished a turn.
  struct Seen {
    long long_lines = 0;
    long tiny_lines = 0;
    long rooms_replies = 0;
  } seen;
  BackgroundLines lines({reader.client.fd(), tiny.client.fd()},
                        [&](std::size_t who, std::string_view line) {
                          if (who == 1 && line.starts_with("*** Rooms: ")) ++seen.rooms_replies;
                          const auto chat = lines::parse_chat_line(line);
                          if (who != 0 || !chat) return;
                          if (chat->sender == sender.id) ++seen.long_lines;
                          if (chat->sender == tiny.id) ++seen.tiny_lines;
                        });

  // Fills C's socket buffers with lines from M until kQueuedInServer waits in the server:
  // what the server was given for C, less what C's kernel holds and what the server's
  // kernel holds for it.
  const std::uint16_t c_port = sender.client.local_port();
  long fill_lines = 0;
  std::size_t queued_for_c = 0;
  std::size_t in_server = 0;
  for (int step = 0; in_server < kQueuedInServer; ++step) {
    ASSERT_LT(step, 2000) << "the kernel kept taking C's output";
    const std::string fill = numbered_lines("fill ", fill_lines, kFillLinesPerStep, kLongLine);
    for (std::size_t at = 0; at < fill.size(); at += kLongLine) {
      queued_for_c +=
          lines::says(tiny.id, std::string_view(fill).substr(at, kLongLine - 1)).size() + 1;
    }
    tiny.client.send(fill + "/rooms\n");
    fill_lines += kFillLinesPerStep;
    // The reply is queued after the fill lines, so it is flushed after them (in the same
    // turn or a later one): once M has it, the server has written to C what C's kernel took.
    ASSERT_TRUE(lines.wait_until([&] { return seen.rooms_replies == step + 1; }, 10s));
    const auto in_kernel = kernel_send_queue(daemon.port(), c_port);
    ASSERT_TRUE(in_kernel.has_value()) << "no connection to C in /proc/net/tcp";
    int at_c = 0;
    ASSERT_EQ(::ioctl(sender.client.fd(), FIONREAD, &at_c), 0);
    in_server = queued_for_c - std::min(queued_for_c, *in_kernel + static_cast<std::size_t>(at_c));
  }
  const long fill_total = fill_lines;
  std::cout << "C's socket buffers hold " << (queued_for_c - in_server) / 1024 << " KiB; "
            << in_server / 1024 << " KiB more wait in the server\n";
  const std::size_t rss_before = resident_set_bytes(daemon.pid());

  std::size_t rss_peak = rss_before;
  const auto start = Clock::now();
  for (long step = 0; step < kSteps; ++step) {
    tiny.client.send("x\n");
    ASSERT_TRUE(lines.wait_until([&] { return seen.tiny_lines == fill_total + step + 1; }, 10s))
        << "M's line " << step << " did not reach R";
    sender.client.send(
        numbered_lines("long ", step * kLongLinesPerStep, kLongLinesPerStep, kLongLine));
    ASSERT_TRUE(
        lines.wait_until([&] { return seen.long_lines == (step + 1) * kLongLinesPerStep; }, 10s))
        << "C's lines of step " << step << " did not reach R";
    if (step % 20 == 19) rss_peak = std::max(rss_peak, resident_set_bytes(daemon.pid()));
  }
  const double seconds = elapsed_ms(start) / 1000.0;
  rss_peak = std::max(rss_peak, resident_set_bytes(daemon.pid()));

  // C was never cut off: it still gets every line queued for it, M's last one at the end.
  long tiny_lines_at_c = 0;
  const Deadline deadline(20s);
  while (tiny_lines_at_c < fill_total + kSteps) {
    const auto line = sender.client.read_line(deadline.remaining());
    ASSERT_TRUE(line.has_value()) << "C got " << tiny_lines_at_c << " of M's "
                                  << fill_total + kSteps << " lines, then "
                                  << (sender.client.peer_closed() ? "was disconnected"
                                                                  : "nothing more");
    const auto chat = lines::parse_chat_line(*line);
    if (chat && chat->sender == tiny.id) ++tiny_lines_at_c;
  }

  const std::size_t growth = rss_peak > rss_before ? rss_peak - rss_before : 0;
  const std::size_t bound = 2 * kMaxBacklog + 4 * 1024 * 1024;
  std::cout << kSteps << " one-character lines queued for a client that does not read, each "
            << "in a chunk of its own (" << kSteps * kLongLinesPerStep << " lines of " << kLongLine
            << " B between them, " << seconds << " s): daemon RSS before " << rss_before / 1024
            << " KiB, peak " << rss_peak / 1024 << " KiB, growth " << growth / 1024
            << " KiB (bound " << bound / 1024 << " KiB, max-backlog " << kMaxBacklog / 1024
            << " KiB)\n";
  EXPECT_LT(growth, bound);
}

}  // namespace
}  // namespace epollchat::test
