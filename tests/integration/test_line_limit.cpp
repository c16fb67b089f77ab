// max-line: a line longer than the limit is discarded up to its end, the sender is told,
// nothing of it reaches anyone, and the connection stays usable.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class LineLimit : public ::testing::Test {
 protected:
  void start(DaemonOptions options = {}) {
    daemon_.emplace(std::move(options));
    sender_.emplace(join(daemon_->port()));
    receiver_.emplace(join(daemon_->port()));
    ASSERT_TRUE(sender_->client.expect_line(lines::joined(receiver_->id, 2)));
  }

  std::optional<DaemonProcess> daemon_;
  std::optional<Member> sender_;
  std::optional<Member> receiver_;
};

TEST_F(LineLimit, LineOfExactlyDefaultMaxIsRelayed) {
  start();
  const std::string text(4096, 'm');
  sender_->client.send(text + "\n");
  EXPECT_TRUE(receiver_->client.expect_line(lines::says(sender_->id, text)));
}

TEST_F(LineLimit, OversizeLineIsDroppedWithNoticeAndConnectionKept) {
  start();
  sender_->client.send(std::string(4097, 'x') + "\n");
  EXPECT_TRUE(sender_->client.expect_line(lines::line_too_long(4096)));
  sender_->client.send("next line\n");
  // The receiver's first line is the next one: nothing of the oversize line came through.
  EXPECT_TRUE(receiver_->client.expect_line(lines::says(sender_->id, "next line")));
}

TEST_F(LineLimit, OversizeLineInPiecesIsDiscardedUpToItsEnd) {
  start();
  // 20 KB without a newline, in pieces; its tail after the limit must not turn into lines.
  for (int piece = 0; piece < 20; ++piece) sender_->client.send(std::string(1000, 'y'));
  sender_->client.send("tail of the long line\nshort one\n");
  EXPECT_TRUE(sender_->client.expect_line(lines::line_too_long(4096)));
  EXPECT_TRUE(receiver_->client.expect_line(lines::says(sender_->id, "short one")));
  // The sender is told once per oversize line, not once per read.
  receiver_->client.send("ping\n");
  EXPECT_TRUE(sender_->client.expect_line(lines::says(receiver_->id, "ping")));
}

TEST_F(LineLimit, MaxLineOptionSetsTheLimitAndTheNotice) {
  start(DaemonOptions::with_args({"--max-line", "64"}));
  sender_->client.send(std::string(64, 'a') + "\n" + std::string(65, 'b') + "\nok\n");
  EXPECT_TRUE(receiver_->client.expect_line(lines::says(sender_->id, std::string(64, 'a'))));
  EXPECT_TRUE(sender_->client.expect_line(lines::line_too_long(64)));
  EXPECT_TRUE(receiver_->client.expect_line(lines::says(sender_->id, "ok")));
}

}  // namespace
}  // namespace epollchat::test
