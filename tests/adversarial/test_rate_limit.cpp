// Per-client rate limit: with --max-rate 100, a client that sends 500 lines at once is told
// once to slow down, its lines are delayed by backpressure (about 4 s: a burst of 100, then
// 100 per second) and none is lost or reordered, while another client's lines overtake them.
// What shows the other client unaffected is an order, not a latency: each of its lines
// reaches the receiver while the fast sender's burst is still being held back, which a
// shared limit would not allow. A loaded machine slows both alike, so the order holds.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kRate = 100;
constexpr int kBurstLines = 500;
// The normal client stops sending while less than a second of the throttled burst is left,
// so that each of its lines has that long to overtake the rest of the burst.
constexpr int kLastNormalSendBefore = kBurstLines - kRate;
constexpr int kNormalSendEvery = 50;

TEST(RateLimit, FastSenderIsDelayedNotDroppedAndOthersAreUnaffected) {
  DaemonProcess daemon(DaemonOptions::with_args({"--max-rate", std::to_string(kRate)}));
  auto [fast, normal, receiver] = join_quiet<3>(daemon.port());

  const std::string slow_down = lines::slow_down(kRate);
  std::string burst;
  for (int i = 0; i < kBurstLines; ++i) burst += "r" + std::to_string(i) + "\n";

  // 0: the fast sender (reads its notices), 1: the normal client, 2: the receiver.
  std::vector<LineReader> readers{LineReader(fast.client.fd()), LineReader(normal.client.fd()),
                                  LineReader(receiver.client.fd())};
  int next_fast = 0;
  int notices = 0;
  int normal_sent = 0;
  int normal_received = 0;
  int normal_sent_at_line = 0;  // burst lines the receiver had when the normal line was sent
  int normal_after_burst = 0;   // normal lines that arrived only after the whole burst
  bool end_marker_seen = false;
  std::vector<double> normal_latencies;
  Clock::time_point normal_sent_at;
  std::string error;
  double burst_seconds = 0;

  // The normal client sends its next line once its previous one arrived and the receiver
  // has had 50 more burst lines, so its lines are spread over the throttled period however
  // slowly each one travels.
  auto send_normal = [&] {
    normal_sent_at = Clock::now();
    normal_sent_at_line = next_fast;
    normal.client.send("n" + std::to_string(normal_sent++) + "\n");
  };
  const auto start = Clock::now();
  fast.client.send(burst);
  send_normal();
  auto on_line = [&](std::size_t who, std::string_view line) {
    if (who == 0) {
      if (line == slow_down) ++notices;
      if (line == lines::says(normal.id, "end")) end_marker_seen = true;
      return;
    }
    if (who != 2) return;
    const auto chat = lines::parse_chat_line(line);
    if (!chat) return;
    if (chat->sender == normal.id) {
      if (chat->text == "end") return;  // the closing marker below, not a measured line
      normal_latencies.push_back(elapsed_ms(normal_sent_at));
      if (next_fast == kBurstLines) ++normal_after_burst;
      if (chat->text != "n" + std::to_string(normal_received++) && error.empty()) {
        error = "normal line out of order: " + std::string(chat->text);
      }
      return;
    }
    if (chat->sender != fast.id) return;
    if (chat->text != "r" + std::to_string(next_fast) && error.empty()) {
      error = "expected r" + std::to_string(next_fast) + ", got " + std::string(chat->text);
    }
    ++next_fast;
    if (next_fast == kBurstLines) burst_seconds = elapsed_ms(start) / 1000.0;
    if (normal_received == normal_sent && next_fast < kLastNormalSendBefore &&
        next_fast >= normal_sent_at_line + kNormalSendEvery) {
      send_normal();
    }
  };
  ASSERT_TRUE(pump_lines(
      readers, on_line,
      [&] {
        return !error.empty() || readers[2].is_closed() ||
               (next_fast == kBurstLines && normal_received == normal_sent);
      },
      Deadline(30s)))
      << "received " << next_fast << " of " << kBurstLines << " lines";
  ASSERT_EQ(error, "");
  ASSERT_EQ(next_fast, kBurstLines);

  // A last line from the normal client ends the fast sender's input: any further notice
  // would have been queued before it.
  normal.client.send("end\n");
  ASSERT_TRUE(pump_lines(
      readers, on_line, [&] { return end_marker_seen; }, Deadline(10s)));

  const double worst_normal = *std::max_element(normal_latencies.begin(), normal_latencies.end());
  const double expected = static_cast<double>(kBurstLines - kRate) / kRate;
  std::cout << "max-rate " << kRate << ": " << kBurstLines << " lines sent at once arrived in "
            << burst_seconds << " s (expected about " << expected << " s), all in order; "
            << notices << " slow-down notice(s); the normal client's " << normal_latencies.size()
            << " lines meanwhile arrived within " << worst_normal << " ms\n";
  EXPECT_EQ(notices, 1);
  // The coarse clock and the 50 ms recheck may let it finish a little early, never by much.
  EXPECT_GE(burst_seconds, 0.9 * expected);
  EXPECT_LT(burst_seconds, 2 * expected);
  // Every normal line overtook the held-back burst. There were several, spread over the
  // throttled period: three seconds of it, at most one line per 50 burst lines (half a
  // second), need only each line to arrive within a second for at least three.
  EXPECT_EQ(normal_after_burst, 0) << "a normal line waited behind the fast sender's burst";
  EXPECT_GE(normal_latencies.size(), 3u);
}

}  // namespace
}  // namespace epollchat::test
