// Slowloris: 500 clients each trickle a line that never ends. The server holds at most
// max-line bytes for each, and --line-timeout 2 disconnects every one of them with a notice
// about 2-3 s after its first byte, while two normal clients keep chatting and a client that
// is merely quiet (connected, sending nothing) stays connected.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kTricklers = 500;
constexpr int kLineTimeoutSeconds = 2;
constexpr std::size_t kMaxLine = 4096;
// The timeout is checked once a second on a coarse clock: a line older than 2 s is cut
// within 3 s of its first byte, plus scheduling slack.
constexpr double kDisconnectLimitSeconds = 4.0;
// The pace of the attack itself: a few bytes per client every quarter second.
constexpr auto kTrickleInterval = 250ms;

TEST(Slowloris, IncompleteLinesTimeOutWhileNormalAndQuietClientsStay) {
  DaemonOptions options =
      DaemonOptions::with_args({"--line-timeout", std::to_string(kLineTimeoutSeconds)});
  options.nofile_limit = 4096;
  DaemonProcess daemon(options);
  Member quiet = join(daemon.port());
  Member alice = join(daemon.port());
  Member bob = join(daemon.port());
  ASSERT_TRUE(alice.client.expect_line(lines::joined(bob.id, 3)));
  const std::size_t rss_before = resident_set_bytes(daemon.pid());

  std::vector<Member> tricklers;
  tricklers.reserve(kTricklers);
  for (int i = 0; i < kTricklers; ++i) tricklers.push_back(join(daemon.port()));

  const std::string timeout_notice = lines::line_timeout(kLineTimeoutSeconds);
  // Readers: the tricklers, then quiet, alice, bob.
  std::vector<LineReader> readers;
  for (const Member& member : tricklers) readers.emplace_back(member.client.fd());
  const std::size_t kQuiet = readers.size();
  readers.emplace_back(quiet.client.fd());
  readers.emplace_back(alice.client.fd());
  readers.emplace_back(bob.client.fd());
  const std::size_t kBob = kQuiet + 2;

  auto first_byte = Clock::now();
  std::vector<bool> noticed(kTricklers, false);
  std::vector<double> closed_after(kTricklers, -1);
  int closed = 0;
  std::vector<double> chat_latencies;
  int chat_sent = 0;
  int chat_received = 0;
  Clock::time_point chat_sent_at;
  std::string error;
  auto on_line = [&](std::size_t who, std::string_view line) {
    if (who < kQuiet) {
      if (line == timeout_notice) noticed[who] = true;
      return;
    }
    if (who != kBob) return;
    const auto chat = lines::parse_chat_line(line);
    if (!chat || chat->sender != alice.id) return;
    chat_latencies.push_back(elapsed_ms(chat_sent_at));
    if (chat->text != "hi " + std::to_string(chat_received++) && error.empty()) {
      error = "bob got \"" + std::string(chat->text) + "\"";
    }
  };

  // Everyone first drains what joining produced (500 join notices), so the latencies below
  // measure the server, not this test's backlog: a line from Alice marks the end of it.
  {
    std::size_t have_marker = 0;
    const std::string marker = lines::says(alice.id, "ready");
    alice.client.send("ready\n");
    ASSERT_TRUE(pump_lines(
        readers,
        [&](std::size_t who, std::string_view line) {
          if (who != kQuiet + 1 && line == marker) ++have_marker;
        },
        [&] { return have_marker == readers.size() - 1; }, Deadline(20s)))
        << have_marker << " of " << readers.size() - 1 << " clients got the marker";
  }
  first_byte = Clock::now();
  std::size_t rss_peak = rss_before;
  int round = 0;
  const Deadline deadline(15s);
  while (closed < kTricklers && !deadline.has_expired() && error.empty()) {
    // One round: three more bytes of a line that never ends, from every trickler still
    // connected (16 rounds at most, so the line stays far below max-line).
    if (round < 16) {
      for (int i = 0; i < kTricklers; ++i) {
        if (readers[static_cast<std::size_t>(i)].is_closed()) continue;
        try {
          tricklers[static_cast<std::size_t>(i)].client.send("abc", 1s);
        } catch (const std::exception&) {
          // Closed by the server between our read and this send: the read will show it.
        }
      }
    }
    ++round;
    // Alice says something each round (once Bob has her previous line).
    if (chat_received == chat_sent) {
      chat_sent_at = Clock::now();
      alice.client.send("hi " + std::to_string(chat_sent++) + "\n");
    }
    if (round == 4) rss_peak = std::max(rss_peak, resident_set_bytes(daemon.pid()));
    const Deadline round_end(kTrickleInterval);
    pump_lines(
        readers, on_line, [&] { return false; }, round_end);
    for (int i = 0; i < kTricklers; ++i) {
      const auto index = static_cast<std::size_t>(i);
      if (readers[index].is_closed() && closed_after[index] < 0) {
        closed_after[index] = elapsed_ms(first_byte) / 1000.0;
        ++closed;
      }
    }
  }
  ASSERT_EQ(error, "");
  ASSERT_EQ(closed, kTricklers) << "tricklers still connected after 15 s";
  EXPECT_FALSE(readers[kQuiet].is_closed()) << "the quiet client was disconnected";
  int without_notice = 0;
  for (const bool got : noticed) without_notice += got ? 0 : 1;
  EXPECT_EQ(without_notice, 0) << "tricklers closed without the line-timeout notice";
  const double first_close = *std::min_element(closed_after.begin(), closed_after.end());
  const double last_close = *std::max_element(closed_after.begin(), closed_after.end());
  const double worst_chat = *std::max_element(chat_latencies.begin(), chat_latencies.end());

  // The quiet client has been idle longer than the timeout and is still in the room.
  alice.client.send("still there?\n");
  EXPECT_TRUE(quiet.client.skip_until_line(lines::says(alice.id, "still there?")));
  quiet.client.send("yes\n");
  EXPECT_TRUE(alice.client.skip_until_line(lines::says(quiet.id, "yes")));

  const std::size_t bound = rss_before + kTricklers * kMaxLine;
  std::cout << kTricklers << " tricklers disconnected " << first_close << " s to " << last_close
            << " s after their first byte (line-timeout " << kLineTimeoutSeconds
            << " s); daemon RSS before " << rss_before / 1024 << " KiB, with " << kTricklers
            << " partial lines " << rss_peak / 1024 << " KiB (bound " << bound / 1024 << " KiB); "
            << chat_latencies.size() << " chat lines meanwhile, worst " << worst_chat
            << " ms; the quiet client is still connected\n";
  EXPECT_GE(first_close, kLineTimeoutSeconds * 1.0 - 0.1);
  EXPECT_LE(last_close, kDisconnectLimitSeconds);
  EXPECT_LT(rss_peak, bound);
  EXPECT_LT(worst_chat, 100.0);
}

}  // namespace
}  // namespace epollchat::test
