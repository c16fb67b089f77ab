// Hostile bytes: invalid UTF-8, NULs, escape sequences, runs longer than max-line, CR-only
// lines and a megabyte of random bytes. Nothing crashes, the stream continues after each,
// and no control character (other than LF and TAB) ever reaches another client raw.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kMaxLine = 4096;

class Bytes : public ::testing::Test {
 protected:
  Bytes() : sender_(join(daemon_.port())), receiver_(join(daemon_.port())) {
    EXPECT_TRUE(sender_.client.expect_line(lines::joined(receiver_.id, 2)));
  }

  // Sends `bytes`, then a marker line, and returns everything the receiver got before the
  // marker (raw, LFs included), checking it for raw control characters.
  std::string relay(const std::string& bytes) {
    const std::string marker = "marker " + std::to_string(markers_++);
    sender_.client.send(bytes, 10s);
    sender_.client.send(marker + "\n");
    std::string received;
    for (;;) {
      const auto line = receiver_.client.read_line(10s);
      if (!line) {
        ADD_FAILURE() << "the marker never arrived; the receiver "
                      << (receiver_.client.peer_closed() ? "was disconnected" : "timed out");
        break;
      }
      if (*line == lines::says(sender_.id, marker)) break;
      received += *line + "\n";
    }
    if (const auto at = find_raw_control(received)) {
      ADD_FAILURE() << "raw control byte at " << *at << ": \""
                    << escape_bytes(received.substr(*at > 20 ? *at - 20 : 0, 60)) << "\"";
    }
    bytes_checked_ += received.size();
    return received;
  }

  ~Bytes() override {
    EXPECT_FALSE(daemon_.has_exited());
    std::cout << bytes_checked_ << " bytes received and checked for raw control characters\n";
  }

  std::string says(std::string_view text) const { return lines::says(sender_.id, text) + "\n"; }

  DaemonProcess daemon_;
  Member sender_;
  Member receiver_;
  int markers_ = 0;
  std::size_t bytes_checked_ = 0;
};

TEST_F(Bytes, InvalidUtf8PassesThroughWithoutControlBytes) {
  EXPECT_EQ(relay("\xff\xfe \xc0\x80 \xed\xa0\x80 ok\n"),
            says("\xff\xfe \xc0\x80 \xed\xa0\x80 ok"));
}

TEST_F(Bytes, NulEndsALine) {
  EXPECT_EQ(relay(std::string("one\0two\n\0\0\0three\n", 18)),
            says("one") + says("two") + says("three"));
}

TEST_F(Bytes, EscapeSequencesAreDefused) {
  EXPECT_EQ(relay("\x1b[2J\x1b[31mred\x1b[0m \x1b]0;title\x07 \x7f\x08\n"),
            says("?[2J?[31mred?[0m ?]0;title? ??"));
}

TEST_F(Bytes, OverlongRunIsDroppedAndTheNextLineArrives) {
  const std::string run(3 * kMaxLine + 17, 'L');
  EXPECT_EQ(relay(run + "\nafter the long run\n"), says("after the long run"));
  EXPECT_TRUE(sender_.client.skip_until_line(lines::line_too_long(kMaxLine)));
}

TEST_F(Bytes, CarriageReturnsNeverReachOthersRaw) {
  EXPECT_EQ(relay("one\rtwo\rthree\n\r\nx\r\r\n"), says("one?two?three") + says("x?"));
}

TEST_F(Bytes, RandomBytesNeverCrashOrLeakControlCharacters) {
  std::mt19937 random(8);  // fixed seed: a failure reproduces
  std::string bytes;
  constexpr std::size_t kSize = 1024 * 1024;
  bytes.reserve(kSize + 1);
  for (std::size_t i = 0; i < kSize; ++i) {
    // Mostly control characters and high bytes, with an LF now and then.
    const auto value = random();
    bytes.push_back(value % 97 == 0 ? '\n' : static_cast<char>(value % 256));
  }
  bytes.push_back('\n');
  const std::string received = relay(bytes);
  std::cout << "1 MiB of random bytes: " << received.size() << " bytes relayed\n";
  EXPECT_GT(received.size(), 0u);
}

}  // namespace
}  // namespace epollchat::test
