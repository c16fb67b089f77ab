// The protocol lines of the chat commands: exact texts, sanitising of peer text, /who splitting.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "chat/protocol.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::protocol {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    EXPECT_NE(end, std::string::npos) << "text does not end in LF";
    if (end == std::string::npos) break;
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

TEST(CommandLines, ExactTexts) {
  EXPECT_EQ(renamed_line("Client #3", "alice"), "*** Client #3 is now known as alice\n");
  EXPECT_EQ(renamed_you_line("alice"), "*** You are now known as alice.\n");
  EXPECT_EQ(nickname_taken_line("ALICE"), "*** Nickname ALICE is taken.\n");
  EXPECT_EQ(invalid_nickname_line("why"), "*** Invalid nickname: why\n");
  EXPECT_EQ(whisper_line("bob", "hi"), "bob whispers >> hi\n");
  EXPECT_EQ(whisper_sent_line("alice"), "*** Sent to alice.\n");
  EXPECT_EQ(no_such_user_line("zed"), "*** No such user zed.\n");
  EXPECT_EQ(action_line("bob", "waves"), "* bob waves\n");
  EXPECT_EQ(unknown_command_line("xyz"), "*** Unknown command /xyz; try /help.\n");
  EXPECT_EQ(left_line("bob", 2, "bye"), "*** bob left (2 online): bye\n");
  EXPECT_EQ(left_line("bob", 2), "*** bob left (2 online)\n");
}

TEST(CommandLines, PeerTextIsSanitized) {
  EXPECT_EQ(whisper_line("bob", "a\x1b[2Jb\tc"), "bob whispers >> a?[2Jb\tc\n");
  EXPECT_EQ(action_line("bob", "x\x7fy"), "* bob x?y\n");
  EXPECT_EQ(no_such_user_line("a\rb"), "*** No such user a?b.\n");
  EXPECT_EQ(unknown_command_line("a\x01"), "*** Unknown command /a?; try /help.\n");
  EXPECT_EQ(left_line("bob", 1, "x\x1b"), "*** bob left (1 online): x?\n");
}

TEST(CommandLines, HelpIsNoticeLines) {
  const auto lines = split_lines(help_lines());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "*** Commands:");
  for (const auto& line : lines) EXPECT_TRUE(line.starts_with("*** ")) << line;
}

TEST(CommandLines, ShortWhoIsOneLine) {
  EXPECT_EQ(who_lines({"a", "b", "Client #3"}), "*** 3 online: a, b, Client #3\n");
  EXPECT_EQ(who_lines({"solo"}), "*** 1 online: solo\n");
}

TEST(CommandLines, LongWhoSplitsBetweenNamesKeepingOrder) {
  std::vector<std::string> storage;
  for (int i = 0; i < 100; ++i) storage.push_back(std::string(20, 'a') + std::to_string(1000 + i));
  const std::vector<std::string_view> names(storage.begin(), storage.end());
  const auto lines = split_lines(who_lines(names));
  ASSERT_GT(lines.size(), 1u);
  EXPECT_TRUE(lines.front().starts_with("*** 100 online: "));
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    ASSERT_TRUE(line.starts_with("*** "));
    EXPECT_LE(line.size(), 4 + kWhoLineBody);
    std::string body = line.substr(4);
    if (i == 0) body = body.substr(body.find(": ") + 2);
    test::lines::append_listed_names(body, seen);
  }
  EXPECT_EQ(seen, storage);
}

}  // namespace
}  // namespace epollchat::protocol
