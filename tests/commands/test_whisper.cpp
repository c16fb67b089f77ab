// /msg: a whisper reaches only its target, by nickname (any case) or #id.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class Whisper : public ::testing::Test {
 protected:
  void SetUp() override {
    members_ = join_quiet(daemon_.port(), 3);
    ASSERT_TRUE(take_nickname_seen_by(a(), "alice", {&b(), &c()}));
  }

  // alice (named), then two clients without nicknames, in join order.
  Member& a() { return members_[0]; }
  Member& b() { return members_[1]; }
  Member& c() { return members_[2]; }

  DaemonProcess daemon_;
  std::vector<Member> members_;
};

TEST_F(Whisper, ByNicknameInAnyCase) {
  b().client.send("/msg ALICE  hi  there\n");
  EXPECT_TRUE(a().client.expect_line(lines::whispers(lines::client_name(b().id), "hi  there")));
  EXPECT_TRUE(b().client.expect_line("*** Sent to alice."));
  EXPECT_TRUE(expect_nothing_before_marker(b(), c()));
}

TEST_F(Whisper, ByIdAndFromANamedSender) {
  a().client.send("/msg #" + std::to_string(b().id) + " psst\n");
  EXPECT_TRUE(b().client.expect_line("alice whispers >> psst"));
  EXPECT_TRUE(a().client.expect_line(lines::sent_to(lines::client_name(b().id))));
  EXPECT_TRUE(expect_nothing_before_marker(a(), c()));
}

TEST_F(Whisper, TextIsSanitizedLikeChat) {
  b().client.send("/msg alice a\x1b[2Jb\tc\x7f\n");
  EXPECT_TRUE(a().client.expect_line(lines::whispers(lines::client_name(b().id), "a?[2Jb\tc?")));
}

TEST_F(Whisper, NoSuchUser) {
  b().client.send("/msg nobody hi\n/msg #999 hi\n/msg a\x01z hi\n/msg #" + std::to_string(b().id) +
                  "x hi\n");
  EXPECT_TRUE(b().client.expect_line("*** No such user nobody."));
  EXPECT_TRUE(b().client.expect_line("*** No such user #999."));
  EXPECT_TRUE(b().client.expect_line("*** No such user a?z."));
  EXPECT_TRUE(b().client.expect_line(lines::no_such_user("#" + std::to_string(b().id) + "x")));
  EXPECT_TRUE(expect_nothing_before_marker(b(), a()));
}

TEST_F(Whisper, MissingTextIsAUsageNotice) {
  const std::string usage = "*** Usage: /msg TARGET TEXT (TARGET: a nickname or #id)";
  b().client.send("/msg alice\n/msg\n/msg alice   \n");
  EXPECT_TRUE(b().client.expect_line(usage));
  EXPECT_TRUE(b().client.expect_line(usage));
  EXPECT_TRUE(b().client.expect_line(usage));
  EXPECT_TRUE(expect_nothing_before_marker(b(), a()));
}

TEST_F(Whisper, LeftUserIsNoLongerFound) {
  a().client.close();
  ASSERT_TRUE(b().client.expect_line("*** alice left (2 online)"));
  b().client.send("/msg alice hi\n/msg #" + std::to_string(a().id) + " hi\n");
  EXPECT_TRUE(b().client.expect_line("*** No such user alice."));
  EXPECT_TRUE(b().client.expect_line(lines::no_such_user("#" + std::to_string(a().id))));
}

}  // namespace
}  // namespace epollchat::test
