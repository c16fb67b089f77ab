// Closing while paused: a client that is at once a congested reader and a paused sender
// ends (cut off as a stalled reader, reset by its own side, or cut off over max-backlog).
// The server must never touch that connection again: the daemon stays up with no sanitizer
// report, and the sender that was paused because of it is resumed, its lines reaching the
// reader again whole and in order.
//
// The scene, at default limits: S (tiny receive buffer) never reads; T floods 1000-byte
// lines until the server stops reading T (S is congested, T paused); then S sends 300 KB of
// lines in one write, so S is a heavy sender while congested (paused too, if the server
// reads it at all). R, and every other client, reads everything.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kLineSize = 1000;  // bytes per line, LF included
constexpr long kCongestedSenderLines = 300;
// Chatters: each sends less than 64 KiB, so none is ever a heavy sender (never paused);
// together they queue more than max-backlog (1 MiB) for S.
constexpr int kChatters = 24;
constexpr long kChatterLines = 48;

class ClosingWhilePaused : public ::testing::Test {
 protected:
  // What R has seen: T's lines in order, S's lines, and whether S left.
  struct Seen {
    long flood_lines = 0;
    long congested_lines = 0;
    bool congested_left = false;
    bool flood_finished = false;
    std::string error;
  };

  explicit ClosingWhilePaused(int chatters = 0)
      : daemon_(DaemonOptions::with_args({"--log-level", "debug"})),
        notify_drain_(daemon_.notify()),
        reader_(join(daemon_.port())),
        flooder_(join(daemon_.port())),
        congested_(join(daemon_.port(), ConnectOptions::with_receive_buffer(4096))) {
    for (int i = 0; i < chatters; ++i) chatters_.push_back(join(daemon_.port()));
    std::vector<int> fds{reader_.client.fd(), flooder_.client.fd()};
    for (const Member& chatter : chatters_) fds.push_back(chatter.client.fd());
    // Index 0 is R; the others only read so they never hold anything up.
    lines_ = std::make_unique<BackgroundLines>(fds, [this](std::size_t who, std::string_view line) {
      if (who == 0) take(line);
    });
  }

  void take(std::string_view line) {
    if (lines::is_leave_notice(line, lines::client_name(congested_.id))) {
      seen_.congested_left = true;
      return;
    }
    const auto chat = lines::parse_chat_line(line);
    if (!chat) return;
    if (chat->sender == congested_.id) {
      ++seen_.congested_lines;
    } else if (chat->sender == flooder_.id) {
      if (chat->text == "flood done") {
        seen_.flood_finished = true;
        return;
      }
      const std::string expected = numbered_lines("t ", seen_.flood_lines, 1, kLineSize);
      if (seen_.error.empty() && std::string(chat->text) + "\n" != expected) {
        seen_.error = "flood line " + std::to_string(seen_.flood_lines) +
                      " missing, damaged or out of order; got \"" +
                      escape_bytes(chat->text.substr(0, 40)) + "\"";
      }
      ++seen_.flood_lines;
    }
  }

  // T floods until the server stops reading it (S is congested), then S sends its 300 KB.
  void congest_and_pause() {
    long next = 0;
    ASSERT_TRUE(write_until_not_read(
        flood_, flooder_.client.fd(), [&] { return numbered_lines("t ", next++, 1, kLineSize); },
        1s, Deadline(60s)))
        << "the server kept reading the flooder while S took nothing";
    const long before = lines_->locked([&] { return seen_.flood_lines; });
    std::cout << "flooder paused after R got " << before << " of its lines\n";
    congested_output_.append(numbered_lines("s ", 0, kCongestedSenderLines, kLineSize));
    (void)congested_output_.send_to(congested_.client.fd());
  }

  // After S ended: the daemon still runs, and T's lines (all of them, then a last one)
  // reach R again.
  void expect_flooder_resumed() {
    const auto ended = Clock::now();
    ASSERT_FALSE(daemon_.has_exited()) << "the daemon died when S ended";
    flood_.append("flood done\n");
    ASSERT_TRUE(flood_.send_all(flooder_.client.fd(), Deadline(60s)))
        << "the server never read the flooder again after S ended"
        << (daemon_.has_exited() ? " (the daemon exited)" : "");
    const bool delivered = lines_->wait_until([&] { return seen_.flood_finished; }, 60s);
    const Seen seen = lines_->locked([&] { return seen_; });
    EXPECT_EQ(seen.error, "");
    ASSERT_TRUE(delivered) << "R got " << seen.flood_lines
                           << " of the flooder's lines but not the last one"
                           << (lines_->is_closed(0) ? "; R's connection was closed" : "")
                           << (daemon_.has_exited() ? "; the daemon exited" : "");
    std::cout << "after S ended, the flooder's backlog reached R in " << elapsed_ms(ended)
              << " ms: " << seen.flood_lines << " lines of " << kLineSize << " B in order; R got "
              << seen.congested_lines << " of S's " << kCongestedSenderLines << " lines\n";
    EXPECT_FALSE(daemon_.has_exited());
  }

  // Waits for R to be told that S left.
  ::testing::AssertionResult wait_for_congested_to_leave(std::chrono::milliseconds timeout) {
    if (lines_->wait_until([&] { return seen_.congested_left; }, timeout)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "R was not told that S left within " << timeout.count() << " ms";
  }

  // The daemon's log line about S's end, which starts "client #<S> <how>" (debug level logs
  // every way a client ends); "" if none arrives within a few seconds.
  std::string congested_log_line(std::string_view how) const {
    const std::string needle = "client #" + std::to_string(congested_.id) + " " + std::string(how);
    if (!daemon_.wait_for_stderr(needle, 5s)) return "";
    const std::string log = daemon_.stderr_text();
    const std::size_t found = log.find(needle);
    return log.substr(found, log.find('\n', found) - found);
  }

  DaemonProcess daemon_;
  NotifyDrain notify_drain_;
  Member reader_;
  Member flooder_;
  Member congested_;
  std::vector<Member> chatters_;
  PendingOutput flood_;
  PendingOutput congested_output_;
  Seen seen_;
  std::unique_ptr<BackgroundLines> lines_;
};

class ClosingWhilePausedWithChatters : public ClosingWhilePaused {
 protected:
  ClosingWhilePausedWithChatters() : ClosingWhilePaused(kChatters) {}
};

TEST_F(ClosingWhilePaused, CutOffAsStalledReaderResumesTheOthers) {
  ASSERT_NO_FATAL_FAILURE(congest_and_pause());
  const auto start = Clock::now();
  // S never reads: it is cut off 3 s after its output last made progress.
  ASSERT_TRUE(wait_for_congested_to_leave(20s));
  std::cout << "S was cut off " << elapsed_ms(start)
            << " ms after its 300 KB write: " << congested_log_line("cut off") << "\n";
  ASSERT_NO_FATAL_FAILURE(expect_flooder_resumed());
}

TEST_F(ClosingWhilePaused, ResetByItsPeerResumesTheOthers) {
  ASSERT_NO_FATAL_FAILURE(congest_and_pause());
  // The server reads S's first batch and pauses S at its end, so S's first lines reaching R
  // show that S is now a paused sender. A server that does not read a congested client at
  // all sends none: then the reset simply comes after this wait, still well within the 3 s
  // after which S would be cut off as a stalled reader.
  const bool relayed = lines_->wait_until([&] { return seen_.congested_lines > 0; }, 1s);
  congested_.client.reset();
  ASSERT_TRUE(wait_for_congested_to_leave(20s));
  const std::string logged = congested_log_line("reset");
  std::cout << "S reset its connection (" << (relayed ? "after" : "before")
            << " its lines reached R): " << logged << "\n";
  EXPECT_NE(logged, "") << "no log line says that S reset its connection";
  ASSERT_NO_FATAL_FAILURE(expect_flooder_resumed());
}

TEST_F(ClosingWhilePausedWithChatters, CutOffOverMaxBacklogResumesTheOthers) {
  ASSERT_NO_FATAL_FAILURE(congest_and_pause());
  // S already holds more than half of max-backlog; the chatters' lines (never paused: each
  // sends under 64 KiB) take it over max-backlog at once.
  for (std::size_t c = 0; c < chatters_.size(); ++c) {
    chatters_[c].client.send(
        numbered_lines("c" + std::to_string(c) + " ", 0, kChatterLines, kLineSize));
  }
  const auto start = Clock::now();
  ASSERT_TRUE(wait_for_congested_to_leave(20s));
  const std::string logged = congested_log_line("cut off");
  std::cout << "S was cut off " << elapsed_ms(start) << " ms after the chatters' lines: " << logged
            << "\n";
  EXPECT_NE(logged.find("max-backlog"), std::string::npos)
      << "S did not end by going over max-backlog: " << logged;
  ASSERT_NO_FATAL_FAILURE(expect_flooder_resumed());
}

}  // namespace
}  // namespace epollchat::test
