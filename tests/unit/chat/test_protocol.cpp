// protocol: the exact server-to-client texts and the control-character replacement.
#include "chat/protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epollchat {
namespace {

using namespace std::string_literals;

std::string chat_line(std::string_view sender, std::string_view text) {
  std::string line(protocol::chat_line_size(sender, text), '#');
  char* end = protocol::write_chat_line(line.data(), sender, text);
  EXPECT_EQ(end, line.data() + line.size()) << "write_chat_line must fill chat_line_size() bytes";
  return line;
}

std::string sanitized(std::string_view text) {
  std::string out(text.size(), '#');
  char* end = protocol::write_sanitized(out.data(), text);
  EXPECT_EQ(end, out.data() + out.size());
  return out;
}

TEST(Protocol, NoticesAndGreetingsHaveTheDocumentedTexts) {
  EXPECT_EQ(protocol::client_name("", 7), "Client #7");
  EXPECT_EQ(protocol::client_name("b7", 12), "Client #b7:12");
  EXPECT_EQ(protocol::welcome_line("Client #1"),
            "Welcome to the chat room! Your chat ID is: Client #1\n");
  EXPECT_EQ(protocol::joined_line("Client #3", 2), "*** Client #3 joined (2 online)\n");
  EXPECT_EQ(protocol::left_line("Client #3", 1), "*** Client #3 left (1 online)\n");
  EXPECT_EQ(protocol::alone_line(), "*** You are alone in the chat room.\n");
  EXPECT_EQ(protocol::line_too_long_line(4096), "*** Line too long (max 4096 bytes); dropped.\n");
  EXPECT_EQ(protocol::server_full_line(1024), "*** Server full (1024 clients); try again later.\n");
  EXPECT_EQ(protocol::shutting_down_line(), "*** Server shutting down.\n");
  EXPECT_EQ(protocol::not_allowed_line("203.0.113.5"),
            "*** Connections from 203.0.113.5 are not allowed here.\n");
  EXPECT_EQ(protocol::not_allowed_line("2001:db8::1"),
            "*** Connections from 2001:db8::1 are not allowed here.\n");
  EXPECT_EQ(protocol::kNoticePrefix, "*** ");
}

TEST(Protocol, RoomAndLinkLinesHaveTheDocumentedTexts) {
  EXPECT_EQ(protocol::rooms_lines({{"lobby", 12}, {"dev", 3}}), "*** Rooms: lobby (12), dev (3)\n");
  EXPECT_EQ(protocol::joined_room_line("dev", 3), "*** You are now in dev (3 online).\n");
  EXPECT_EQ(protocol::already_in_room_line("lobby"), "*** You are already in lobby.\n");
  EXPECT_EQ(protocol::invalid_room_line(),
            "*** Invalid room name: use 1-32 letters, digits, _ or -\n");
  EXPECT_EQ(protocol::link_lost_line(), "*** Link to other servers lost; chatting locally.\n");
  EXPECT_EQ(protocol::link_restored_line(), "*** Link restored.\n");
}

TEST(Protocol, LongRoomListsContinueOnMoreLines) {
  std::vector<std::pair<std::string_view, std::size_t>> rooms;
  const std::string name(32, 'r');
  for (int i = 0; i < 40; ++i) rooms.emplace_back(name, 1);
  const std::string lines = protocol::rooms_lines(rooms);
  std::size_t line_count = 0;
  for (std::size_t start = 0; start < lines.size();) {
    const std::size_t end = lines.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_EQ(lines.compare(start, 4, "*** "), 0);
    EXPECT_LE(end - start, 4 + protocol::kWhoLineBody);
    ++line_count;
    start = end + 1;
  }
  EXPECT_GT(line_count, 1u);
}

TEST(Protocol, LargeIdsAndCountsArePrintedInFull) {
  EXPECT_EQ(protocol::welcome_line(protocol::client_name("", 18446744073709551615u)),
            "Welcome to the chat room! Your chat ID is: Client #18446744073709551615\n");
  EXPECT_EQ(protocol::joined_line("Client #100000", 100000),
            "*** Client #100000 joined (100000 online)\n");
}

TEST(Protocol, ChatLineFormat) {
  EXPECT_EQ(chat_line("Client #2", "hi there"), "Client #2 says >> hi there\n");
  EXPECT_EQ(chat_line("Client #2", ""), "Client #2 says >> \n");
  EXPECT_EQ(protocol::chat_line_size("Client #2", "hi"),
            std::string("Client #2 says >> hi\n").size());
}

TEST(Protocol, ChatLineReplacesControlCharactersOfTheText) {
  EXPECT_EQ(chat_line("Client #1", "\x1b[2Jwiped\r\a"), "Client #1 says >> ?[2Jwiped??\n");
}

TEST(Protocol, EveryC0ByteButTabAndDelBecomeQuestionMarks) {
  for (int c = 0; c < 256; ++c) {
    const auto byte = static_cast<unsigned char>(c);
    const bool control = (c < 0x20 && c != '\t') || c == 0x7f;
    EXPECT_EQ(protocol::is_control_character(byte), control) << "byte 0x" << std::hex << c;
    const std::string text(1, static_cast<char>(byte));
    EXPECT_EQ(sanitized(text), control ? "?" : text) << "byte 0x" << std::hex << c;
  }
}

TEST(Protocol, C1ControlsInUtf8BecomeTwoQuestionMarks) {
  // U+009B (CSI) and U+0085 (NEL), U+0080 and U+009F at the ends of the range.
  EXPECT_EQ(sanitized("\xc2\x9b"
                      "2Jwiped"s),
            "??2Jwiped");
  EXPECT_EQ(sanitized("a\xc2\x85"
                      "b\xc2\x80\xc2\x9f"s),
            "a??b????");
  EXPECT_EQ(chat_line("Client #1",
                      "\xc2\x9b"
                      "31mred"s),
            "Client #1 says >> ??31mred\n");
  // Printable characters with the same lead byte, and a lead byte at the very end, pass.
  EXPECT_EQ(sanitized("\xc2\xa0\xc2\xa9\xc2\xc2\x9b\xc2"s), "\xc2\xa0\xc2\xa9\xc2??\xc2");
  // The same bytes split: a C0 byte between them breaks the pair.
  EXPECT_EQ(sanitized("\xc2\x1b\x9b"s), "\xc2?\x9b");
}

TEST(Protocol, TabAndHighBytesPassUnchanged) {
  const std::string text = "a\tb \x80\xc3\xa9\xff invalid \xc3 utf-8"s;
  EXPECT_EQ(sanitized(text), text);
  EXPECT_EQ(sanitized("\x00\x01\x1f\x7f\x20\x7e"s), "????\x20\x7e");
}

}  // namespace
}  // namespace epollchat
