// /who: every member's name in join order, split over lines when long.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

TEST(Who, ListsNamesInJoinOrder) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  Member c = join(daemon.port());
  ASSERT_TRUE(take_nickname(b, "bob"));
  a.client.send("/who\n");
  EXPECT_TRUE(a.client.skip_until_line(
      lines::who_reply({lines::client_name(a.id), "bob", lines::client_name(c.id)})));
  // A later rename does not move anyone.
  ASSERT_TRUE(take_nickname(a, "zed"));
  c.client.send("/WHO\n");
  EXPECT_TRUE(c.client.skip_until_line(lines::who_reply({"zed", "bob", lines::client_name(c.id)})));

  b.client.close();
  ASSERT_TRUE(a.client.skip_until_line("*** bob left (2 online)"));
  a.client.send("/who\n");
  EXPECT_TRUE(a.client.skip_until_line(lines::who_reply({"zed", lines::client_name(c.id)})));
}

TEST(Who, AloneSeesOnlyItself) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  a.client.send("/who\n");
  EXPECT_TRUE(a.client.expect_line(lines::who_reply({lines::client_name(a.id)})));
}

TEST(Who, LongListSplitsAcrossLines) {
  DaemonProcess daemon;
  constexpr int kMembers = 60;
  std::vector<Member> members;
  std::vector<std::string> expected;
  for (int i = 0; i < kMembers; ++i) {
    members.push_back(join(daemon.port()));
    expected.push_back(i % 2 == 0 ? lines::client_name(members.back().id)
                                  : "member_" + std::to_string(i) + "_abcdefghijklm");
    if (i % 2 == 1) {
      ASSERT_TRUE(take_nickname(members.back(), expected.back()));
    }
  }
  Member& last = members.back();
  last.client.send("/who\n");
  // The last member joined last, so it saw no join notices and no one renamed after it:
  // its next lines are the /who reply, read until every name has come.
  std::vector<std::string> seen;
  int line_count = 0;
  while (seen.size() < expected.size()) {
    const auto line = last.client.read_line();
    ASSERT_TRUE(line) << "the /who reply ended after " << seen.size() << " names";
    ASSERT_TRUE(line->starts_with("*** ")) << *line;
    EXPECT_LE(line->size(), 4u + 400u);
    std::string body = line->substr(4);
    if (line_count++ == 0) {
      const std::string head = std::to_string(kMembers) + " online: ";
      ASSERT_TRUE(body.starts_with(head)) << *line;
      body = body.substr(head.size());
    }
    lines::append_listed_names(body, seen);
  }
  EXPECT_GT(line_count, 1);
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace epollchat::test
