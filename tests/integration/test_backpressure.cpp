// Backpressure: a client that never reads is disconnected once its pending output passes
// max-backlog, while a client that reads gets every message, in order, and the server's
// memory stays bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <string>
#include <thread>

#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kMessages = 20'000;
constexpr std::size_t kMessageSize = 2048;  // bytes per line, newline included
constexpr std::size_t kRssLimit = 64 * 1024 * 1024;

// Message i: a fixed-width header with its number, padded to kMessageSize - 1 bytes.
std::string message(int i) {
  std::string text = "msg " + std::to_string(i) + " ";
  text.resize(kMessageSize - 1, static_cast<char>('a' + i % 26));
  return text;
}

TEST(Backpressure, StalledReaderIsCutOffWhileFastReaderGetsAllMessages) {
  DaemonProcess daemon;
  Member writer = join(daemon.port());
  Member fast = join(daemon.port());
  // A tiny receive buffer so the stalled reader's kernel buffers hold little and the
  // server's own backlog for it has to grow.
  Member stalled = join(daemon.port(), ConnectOptions::with_receive_buffer(4096));
  ASSERT_TRUE(writer.client.expect_line(lines::joined(fast.id, 2)));
  ASSERT_TRUE(writer.client.expect_line(lines::joined(stalled.id, 3)));
  ASSERT_TRUE(fast.client.expect_line(lines::joined(stalled.id, 3)));

  const std::size_t rss_before = resident_set_bytes(daemon.pid());
  std::atomic<bool> writer_failed{false};
  std::string writer_error;
  std::thread sender([&] {
    try {
      for (int i = 0; i < kMessages; ++i) writer.client.send(message(i) + "\n", 30s);
    } catch (const std::exception& error) {
      writer_error = error.what();
      writer_failed = true;
    }
  });

  std::size_t rss_peak = rss_before;
  int received = 0;
  bool stalled_left = false;
  const auto start = Clock::now();
  while (received < kMessages) {
    const auto line = fast.client.read_line(30s);
    if (!line) break;
    if (*line == lines::left(stalled.id, 2)) {
      stalled_left = true;
      continue;
    }
    ASSERT_EQ(*line, lines::says(writer.id, message(received)))
        << "message " << received << " missing or out of order";
    if (++received % 500 == 0) rss_peak = std::max(rss_peak, resident_set_bytes(daemon.pid()));
  }
  const double seconds = elapsed_ms(start) / 1000.0;
  sender.join();
  ASSERT_FALSE(writer_failed) << writer_error;
  EXPECT_EQ(received, kMessages);
  rss_peak = std::max(rss_peak, resident_set_bytes(daemon.pid()));

  // The stalled reader was disconnected: the others were told, and its socket ends.
  if (!stalled_left) {
    EXPECT_TRUE(fast.client.expect_line(lines::left(stalled.id, 2)));
  }
  EXPECT_TRUE(writer.client.expect_line(lines::left(stalled.id, 2)));
  EXPECT_TRUE(stalled.client.read_until_closed(10s).has_value())
      << "the stalled reader's connection is still open";

  std::cout << "fast reader: " << received << " x " << kMessageSize << " B in " << seconds
            << " s; daemon RSS before " << rss_before / 1024 << " KiB, peak " << rss_peak / 1024
            << " KiB (limit " << kRssLimit / 1024 << " KiB)\n";
  ::testing::Test::RecordProperty("rss_peak_kib", std::to_string(rss_peak / 1024));
  if (runs_under_valgrind(daemon.pid())) {
    // Under tools/valgrind-daemon the process is memcheck, whose resident set is mostly its
    // own shadow memory; the bound then applies to what the run added, which over- rather
    // than under-states the daemon's own growth.
    std::cout << "(daemon under valgrind: bounding the growth, " << (rss_peak - rss_before) / 1024
              << " KiB)\n";
    EXPECT_LT(rss_peak - rss_before, kRssLimit);
  } else {
    EXPECT_LT(rss_peak, kRssLimit);
  }
}

}  // namespace
}  // namespace epollchat::test
