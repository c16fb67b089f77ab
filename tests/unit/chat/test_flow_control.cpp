// FlowControl, through a Server with small limits: a reader that does not keep up holds
// back a heavy sender in its room without a line being lost and is not read itself until
// it catches up, a client over max-rate is told once and read again later, an incomplete
// line older than line-timeout ends its session, and a reader that stays congested is cut
// off.
//
// FlowControl reads the coarse clock (core/clock.hpp), which tests move on with
// skew_clock(); its timers still run on the loop's real clock, so a test that moves time
// on waits for the timer's next run (at most kSweepInterval) by waiting for its effect.
#include "chat/flow_control.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "chat/server.hpp"
#include "chat/server_limits.hpp"
#include "chat/session.hpp"
#include "core/clock.hpp"
#include "support/protocol_lines.hpp"
#include "unit/chat/chat_harness.hpp"

namespace epollchat::chat {
namespace {

using namespace std::chrono_literals;
using test::ChatHarness;
using test::ClientEnd;
namespace lines = test::lines;
using Lines = std::vector<std::string>;

// The server's end of a reader's socket takes only a few KiB: what it does not read piles
// up in the server's queue at once.
constexpr int kSmallBuffer = 4096;

// `count` distinct chat lines of `length` bytes: "line 0000 xxx...".
Lines numbered_lines(std::size_t count, std::size_t length) {
  Lines result;
  for (std::size_t i = 0; i < count; ++i) {
    char number[16];
    std::snprintf(number, sizeof number, "line %04zu ", i);
    std::string line = number;
    line.resize(length, 'x');
    result.push_back(std::move(line));
  }
  return result;
}

std::string joined_lines(const Lines& lines) {
  std::string text;
  for (const std::string& line : lines) text.append(line).push_back('\n');
  return text;
}

Lines said_by(int id, const Lines& texts) {
  Lines result;
  for (const std::string& text : texts) result.push_back(lines::says(id, text));
  return result;
}

// What `client` has written of `input` so far; write_more() adds what its socket takes now,
// at most `chunk` bytes.
class Writer {
 public:
  Writer(ClientEnd& client, std::string input, std::size_t chunk)
      : client_(client), input_(std::move(input)), chunk_(chunk) {}
  void write_more() {
    written_ += test::write_some(client_.fd(), std::string_view(input_).substr(written_, chunk_));
  }
  [[nodiscard]] std::size_t written() const noexcept { return written_; }

 private:
  ClientEnd& client_;
  std::string input_;
  std::size_t chunk_;
  std::size_t written_ = 0;
};

TEST(FlowControl, AHeavySenderWaitsWhileAReaderInItsRoomIsCongestedAndLosesNoLine) {
  ServerLimits limits;
  limits.connection.max_backlog = 256 * 1024;
  limits.line_timeout = 0s;
  ChatHarness harness(limits);
  ClientEnd& sender = harness.connect();
  ClientEnd& reader = harness.connect(kSmallBuffer);
  (void)sender.sync();
  (void)reader.sync();
  const Session* sending = harness.session_of(sender);
  const Session* reading = harness.session_of(reader);
  ASSERT_NE(sending, nullptr);
  ASSERT_NE(reading, nullptr);
  FlowControl& flow = harness.server().flow();

  // About 480 KB for the reader, far more than it may have queued (max-backlog), and well
  // past what makes a heavy sender.
  const Lines said = numbered_lines(4000, 100);
  Writer writer(sender, joined_lines(said), 16 * 1024);
  ASSERT_TRUE(harness.run_until([&] {
    writer.write_more();
    return flow.paused_count() != 0;
  }));
  EXPECT_TRUE(flow.is_congested(*reading));
  EXPECT_TRUE(sending->connection().is_reading_paused());
  EXPECT_FALSE(flow.is_congested(*sending));
  EXPECT_TRUE(reading->connection().is_open());
  EXPECT_LE(reading->connection().pending_bytes(), limits.connection.max_backlog);
  // Nothing frees it while the reader reads nothing.
  flow.run_checks();
  EXPECT_TRUE(sending->connection().is_reading_paused());

  // The reader catches up: the sender is read again, and every line arrives once, in order.
  Lines received;
  ASSERT_TRUE(harness.run_until([&] {
    writer.write_more();
    for (std::string& line : reader.lines_so_far()) received.push_back(std::move(line));
    return received.size() >= said.size();
  })) << received.size()
      << " of " << said.size() << " lines arrived";
  const Lines expected = said_by(1, said);
  ASSERT_EQ(received.size(), expected.size());
  const auto [got, wanted] = std::mismatch(received.begin(), received.end(), expected.begin());
  EXPECT_TRUE(got == received.end())
      << "line " << (got - received.begin()) << " is \"" << *got << "\", not \"" << *wanted << "\"";
  EXPECT_EQ(flow.paused_count(), 0U);
  EXPECT_FALSE(sending->connection().is_reading_paused());
  EXPECT_FALSE(flow.is_congested(*reading));
}

TEST(FlowControl, ACongestedReaderIsNotReadUntilItCatchesUp) {
  ServerLimits limits;
  limits.connection.max_backlog = 64 * 1024;
  limits.line_timeout = 0s;
  ChatHarness harness(limits);
  ClientEnd& sender = harness.connect();
  ClientEnd& reader = harness.connect(kSmallBuffer);
  (void)sender.sync();
  (void)reader.sync();
  const Session* reading = harness.session_of(reader);
  ASSERT_NE(reading, nullptr);
  FlowControl& flow = harness.server().flow();
  Writer writer(sender, joined_lines(numbered_lines(2000, 100)), 20 * 101);
  ASSERT_TRUE(harness.run_until([&] {
    writer.write_more();
    return flow.is_congested(*reading);
  }));

  // What it says would only add to what it cannot take: it waits (TCP holds it).
  reader.send_line("said while congested");
  ASSERT_TRUE(harness.run_until([&] { return reading->connection().is_reading_paused(); }));
  EXPECT_EQ(sender.sync(), Lines{}) << "a congested reader's line was read";

  Lines heard;
  ASSERT_TRUE(harness.run_until([&] {
    (void)reader.lines_so_far();
    for (std::string& line : sender.lines_so_far()) heard.push_back(std::move(line));
    return !heard.empty();
  }));
  EXPECT_EQ(heard, (Lines{lines::says(2, "said while congested")}));
  EXPECT_FALSE(flow.is_congested(*reading));
}

TEST(FlowControl, AClientOverMaxRateIsToldOnceAndReadAgainLater) {
  ServerLimits limits;
  limits.connection.max_rate = 10;
  limits.line_timeout = 0s;
  ChatHarness harness(limits);
  ClientEnd& sender = harness.connect();
  ClientEnd& reader = harness.connect();
  EXPECT_EQ(sender.next_lines(2), (Lines{lines::welcome(1), lines::joined(2, 2)}));
  EXPECT_EQ(reader.next_line(), lines::welcome(2));

  // A burst of one second's worth is read at once; the rest waits.
  const Lines said = numbered_lines(20, 12);
  sender.send(joined_lines(said));
  EXPECT_EQ(sender.next_line(),
            "*** Slow down: over 10 lines per second; your lines are delayed, none is lost.");
  EXPECT_EQ(reader.lines_so_far(), said_by(1, Lines(said.begin(), said.begin() + 10)));

  // A second later the allowance is full again: the rest is read.
  skew_clock(1s);
  Lines received;
  ASSERT_TRUE(harness.run_until([&] {
    for (std::string& line : reader.lines_so_far()) received.push_back(std::move(line));
    return received.size() >= 10;
  }));
  EXPECT_EQ(received, said_by(1, Lines(said.begin() + 10, said.end())));

  // Over the rate again: delayed at the rate (a few tenths of a second), not told again.
  const Lines more = numbered_lines(3, 8);
  sender.send(joined_lines(more));
  received.clear();
  ASSERT_TRUE(harness.run_until([&] {
    for (std::string& line : reader.lines_so_far()) received.push_back(std::move(line));
    return received.size() >= more.size();
  }));
  EXPECT_EQ(received, said_by(1, more));
  EXPECT_EQ(sender.sync(), Lines{}) << "told to slow down twice";
}

TEST(FlowControl, AnIncompleteLineOlderThanLineTimeoutEndsTheSession) {
  ServerLimits limits;
  limits.line_timeout = 1s;
  ChatHarness harness(limits);
  const auto clients = harness.connect_settled(2);
  ClientEnd& slow = *clients[0];
  const Session* session = harness.session_of(slow);
  ASSERT_NE(session, nullptr);
  slow.send("an incomplete li");
  ASSERT_TRUE(harness.run_until([&] { return session->connection().buffered_input_bytes() != 0; }));
  // Younger than the timeout, it may wait.
  harness.server().flow().run_checks();
  EXPECT_TRUE(session->connection().is_reading());

  skew_clock(2s);
  EXPECT_EQ(slow.next_line(),
            "*** Line timeout: an incomplete line waited over 1 s; disconnecting.");
  EXPECT_TRUE(slow.wait_closed());
  EXPECT_EQ(clients[1]->next_line(), lines::left(1, 1));
}

TEST(FlowControl, AReaderThatStaysCongestedIsCutOff) {
  ServerLimits limits;
  limits.connection.max_backlog = 64 * 1024;
  limits.line_timeout = 0s;
  ChatHarness harness(limits);
  ClientEnd& sender = harness.connect();
  ClientEnd& reader = harness.connect(kSmallBuffer);
  (void)sender.sync();
  (void)reader.sync();
  const Session* reading = harness.session_of(reader);
  ASSERT_NE(reading, nullptr);
  FlowControl& flow = harness.server().flow();

  // A few lines at a time until more than half of max-backlog waits for the reader.
  Writer writer(sender, joined_lines(numbered_lines(2000, 100)), 20 * 101);
  ASSERT_TRUE(harness.run_until([&] {
    writer.write_more();
    return flow.is_congested(*reading);
  }));
  EXPECT_LE(reading->connection().pending_bytes(), limits.connection.max_backlog);
  flow.run_checks();
  EXPECT_TRUE(reading->connection().is_open()) << "cut off before kStallTimeout";

  skew_clock(FlowControl::kStallTimeout + 1s);
  EXPECT_TRUE(reader.wait_closed_unread());
  EXPECT_EQ(sender.next_line(), lines::left(2, 1));
  EXPECT_EQ(flow.paused_count(), 0U);
}

}  // namespace
}  // namespace epollchat::chat
