// Stalled readers: 100 clients that never read (small SO_RCVBUF) while two others chat
// large lines. Each stalled client is cut off once its pending output passes max-backlog
// (64 KiB here) or, if the writer was paused for it first, once it has been congested
// without taking a byte for 3 s. The chatting reader gets every line in order, and the
// daemon's memory stays bounded by about max-backlog per stalled client.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kStalled = 100;
constexpr std::size_t kMaxBacklog = 64 * 1024;
constexpr std::size_t kLineSize = 4000;  // bytes per line, LF included
constexpr int kLines = 2000;             // 8 MB, far past every stalled client's buffers

std::string big_line(int i) {
  std::string text = std::to_string(i) + " ";
  text.resize(kLineSize - 1, static_cast<char>('A' + i % 26));
  return text;
}

TEST(StalledReaders, EachIsCutOffAtMaxBacklogAndMemoryStaysBounded) {
  DaemonOptions options =
      DaemonOptions::with_args({"--max-backlog", std::to_string(kMaxBacklog), "--max-rate", "0"});
  DaemonProcess daemon(with_small_asan_quarantine(options));
  Member writer = join(daemon.port());
  Member reader = join(daemon.port());
  const std::size_t rss_before = resident_set_bytes(daemon.pid());
  std::vector<Member> stalled;
  for (int i = 0; i < kStalled; ++i) {
    stalled.push_back(join(daemon.port(), ConnectOptions::with_receive_buffer(4096)));
  }

  std::string writer_error;
  std::thread sender([&] {
    try {
      for (int i = 0; i < kLines; ++i) writer.client.send(big_line(i) + "\n", 30s);
    } catch (const std::exception& error) {
      writer_error = error.what();
    }
  });

  std::vector<LineReader> readers{LineReader(reader.client.fd())};
  int next = 0;
  int left = 0;
  std::string error;
  std::size_t rss_peak = rss_before;
  const bool done = pump_lines(
      readers,
      [&](std::size_t, std::string_view line) {
        if (line.starts_with("*** Client #") && line.find(" left (") != std::string_view::npos) {
          ++left;
          return;
        }
        const auto chat = lines::parse_chat_line(line);
        if (!chat || chat->sender != writer.id) return;
        if (chat->text != big_line(next) && error.empty()) {
          error = "line " + std::to_string(next) + " missing or damaged";
        }
        if (++next % 200 == 0) rss_peak = std::max(rss_peak, resident_set_bytes(daemon.pid()));
      },
      [&] {
        return !error.empty() || readers[0].is_closed() || (next == kLines && left == kStalled);
      },
      Deadline(60s));
  sender.join();
  ASSERT_EQ(writer_error, "");
  ASSERT_EQ(error, "");
  ASSERT_FALSE(readers[0].is_closed())
      << "the reading client was disconnected after " << next << " lines";
  ASSERT_TRUE(done) << "reader got " << next << " of " << kLines << " lines and " << left << " of "
                    << kStalled << " leave notices";
  rss_peak = std::max(rss_peak, resident_set_bytes(daemon.pid()));

  // Every stalled client's connection has ended (after whatever its buffers held).
  int closed = 0;
  for (Member& member : stalled) closed += member.client.read_until_closed(10s) ? 1 : 0;
  EXPECT_EQ(closed, kStalled);
  const bool cut_off_logged = daemon.stderr_text().find("cut off: ") != std::string::npos;
  EXPECT_TRUE(cut_off_logged);

  const std::size_t bound = rss_before + 2 * kStalled * kMaxBacklog + 16 * 1024 * 1024;
  std::cout << kStalled << " stalled readers cut off at max-backlog " << kMaxBacklog / 1024
            << " KiB while " << kLines << " x " << kLineSize << " B lines reached the reader in "
            << "order; daemon RSS before " << rss_before / 1024 << " KiB, peak " << rss_peak / 1024
            << " KiB (bound " << bound / 1024 << " KiB)\n";
  EXPECT_LT(rss_peak, bound);
}

}  // namespace
}  // namespace epollchat::test
