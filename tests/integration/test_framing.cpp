// Input framing: lines end at LF (a CR before it is dropped) or at NUL; empty lines are
// ignored; a line may arrive in pieces, and one write may hold several lines. The original
// tutorial's client sends each message as a 65535-byte block padded with NULs.
#include <gtest/gtest.h>

#include <string>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class Framing : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sender_.id, 1);
    ASSERT_TRUE(sender_.client.expect_line(lines::joined(receiver_.id, 2)));
  }

  // A round trip through the server from the receiver: once the sender sees the receiver's
  // line, the server has processed everything the sender sent before (TCP_NODELAY pushes
  // each send out at once, and the server reads the sender before it could relay later).
  void round_trip(const std::string& marker) {
    receiver_.client.send(marker + "\n");
    ASSERT_TRUE(sender_.client.expect_line(lines::says(receiver_.id, marker)));
  }

  DaemonProcess daemon_;
  Member sender_ = join(daemon_.port());
  Member receiver_ = join(daemon_.port());
};

TEST_F(Framing, CrLfLineEndingIsStripped) {
  sender_.client.send("windows line\r\n");
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "windows line")));
}

TEST_F(Framing, LineSplitAcrossWritesIsJoined) {
  sender_.client.send("hel");
  round_trip("barrier 1");
  sender_.client.send("lo wor");
  round_trip("barrier 2");
  sender_.client.send("ld\n");
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "hello world")));
}

TEST_F(Framing, CrLfSplitBetweenCrAndLfIsStripped) {
  sender_.client.send("split crlf\r");
  round_trip("barrier");
  sender_.client.send("\n");
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "split crlf")));
}

TEST_F(Framing, SeveralLinesInOneWriteAreRelayedInOrder) {
  sender_.client.send("one\ntwo\r\nthree\n");
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "one")));
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "two")));
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "three")));
}

TEST_F(Framing, EmptyLinesAreIgnored) {
  sender_.client.send(std::string("\n\r\n\n", 4) + std::string(3, '\0') + "after\n");
  // The first line the receiver gets is "after": nothing was relayed for the empty lines.
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "after")));
}

TEST_F(Framing, NulEndsALine) {
  sender_.client.send(std::string("first\0second\n", 13));
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "first")));
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "second")));
}

TEST_F(Framing, TutorialNulPaddedFramesAreRelayedOncePerMessage) {
  constexpr std::size_t kFrame = 65535;
  auto frame = [&](const std::string& message) {
    std::string block = message;
    block.resize(kFrame, '\0');
    return block;
  };
  // The tutorial's client sends what fgets() read, newline included, padded with NULs.
  sender_.client.send(frame("first message\n"));
  sender_.client.send(frame("second message\n") + frame("third, no newline"));
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "first message")));
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "second message")));
  EXPECT_TRUE(receiver_.client.expect_line(lines::says(sender_.id, "third, no newline")));
  // The padding is neither relayed nor treated as one oversize line: the sender's next line
  // is the receiver's message, not a notice.
  round_trip("after the frames");
}

}  // namespace
}  // namespace epollchat::test
