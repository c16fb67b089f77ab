// parse_command(), check_nickname(), parse_client_target() and the room and node names: the
// parts of commands, nicknames, rooms and node ids that need no server.
#include "chat/command.hpp"
#include "chat/names.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace epollchat::chat {
namespace {

TEST(ParseCommand, PlainLineIsChat) {
  const Command command = parse_command("hello /nick x");
  EXPECT_EQ(command.kind, CommandKind::chat);
  EXPECT_EQ(command.text, "hello /nick x");
}

TEST(ParseCommand, DoubleSlashIsChatWithoutFirstSlash) {
  const Command command = parse_command("//nick x");
  EXPECT_EQ(command.kind, CommandKind::chat);
  EXPECT_EQ(command.text, "/nick x");
  EXPECT_EQ(parse_command("//").text, "/");
}

TEST(ParseCommand, NickTakesTheRestTrimmed) {
  Command command = parse_command("/nick  alice \t");
  EXPECT_EQ(command.kind, CommandKind::nick);
  EXPECT_EQ(command.argument, "alice");
  command = parse_command("/nick two words");
  EXPECT_EQ(command.argument, "two words");  // refused later as malformed
  EXPECT_EQ(parse_command("/nick").argument, "");
  EXPECT_EQ(parse_command("/nick   ").argument, "");
}

TEST(ParseCommand, CommandWordIsCaseInsensitive) {
  EXPECT_EQ(parse_command("/WHO").kind, CommandKind::who);
  EXPECT_EQ(parse_command("/Nick bob").kind, CommandKind::nick);
  EXPECT_EQ(parse_command("/hElP").kind, CommandKind::help);
}

TEST(ParseCommand, WhoAndHelpIgnoreArguments) {
  EXPECT_EQ(parse_command("/who is there").kind, CommandKind::who);
  EXPECT_EQ(parse_command("/help me").kind, CommandKind::help);
}

TEST(ParseCommand, MsgSplitsTargetAndText) {
  Command command = parse_command("/msg alice  hi  there ");
  EXPECT_EQ(command.kind, CommandKind::msg);
  EXPECT_EQ(command.argument, "alice");
  EXPECT_EQ(command.text, "hi  there");
  command = parse_command("/msg\t#12\tx");
  EXPECT_EQ(command.argument, "#12");
  EXPECT_EQ(command.text, "x");
  command = parse_command("/msg alice");
  EXPECT_EQ(command.argument, "alice");
  EXPECT_EQ(command.text, "");
  command = parse_command("/msg");
  EXPECT_EQ(command.argument, "");
  EXPECT_EQ(command.text, "");
}

TEST(ParseCommand, MeAndQuitTakeText) {
  Command command = parse_command("/me waves  back");
  EXPECT_EQ(command.kind, CommandKind::me);
  EXPECT_EQ(command.text, "waves  back");
  EXPECT_EQ(parse_command("/me").text, "");
  command = parse_command("/quit  gone fishing ");
  EXPECT_EQ(command.kind, CommandKind::quit);
  EXPECT_EQ(command.text, "gone fishing");
  EXPECT_EQ(parse_command("/quit").text, "");
}

TEST(ParseCommand, UnknownKeepsTheWord) {
  Command command = parse_command("/xyz foo bar");
  EXPECT_EQ(command.kind, CommandKind::unknown);
  EXPECT_EQ(command.argument, "xyz");
  command = parse_command("/");
  EXPECT_EQ(command.kind, CommandKind::unknown);
  EXPECT_EQ(command.argument, "");
  command = parse_command("/ nick");
  EXPECT_EQ(command.kind, CommandKind::unknown);
  EXPECT_EQ(command.argument, "");
  // A prefix or extension of a command word is not that command.
  EXPECT_EQ(parse_command("/nickname x").kind, CommandKind::unknown);
  EXPECT_EQ(parse_command("/m x").kind, CommandKind::unknown);
}

TEST(CheckNickname, AcceptsLettersDigitsUnderscoreDash) {
  EXPECT_EQ(check_nickname("a"), NicknameProblem::none);
  EXPECT_EQ(check_nickname("Alice_42-x"), NicknameProblem::none);
  EXPECT_EQ(check_nickname(std::string(24, 'z')), NicknameProblem::none);
  EXPECT_EQ(check_nickname("Clien"), NicknameProblem::none);
  EXPECT_EQ(check_nickname("xClient"), NicknameProblem::none);
}

TEST(CheckNickname, RefusesMalformed) {
  EXPECT_EQ(check_nickname(""), NicknameProblem::malformed);
  EXPECT_EQ(check_nickname(std::string(25, 'z')), NicknameProblem::malformed);
  EXPECT_EQ(check_nickname("two words"), NicknameProblem::malformed);
  EXPECT_EQ(check_nickname("a!"), NicknameProblem::malformed);
  EXPECT_EQ(check_nickname("#3"), NicknameProblem::malformed);
  EXPECT_EQ(check_nickname("caf\xc3\xa9"), NicknameProblem::malformed);
  EXPECT_EQ(check_nickname(std::string("a\0b", 3)), NicknameProblem::malformed);
  EXPECT_EQ(check_nickname("a\x1b"), NicknameProblem::malformed);
}

TEST(CheckNickname, ReservesClientPrefixInAnyCase) {
  EXPECT_EQ(check_nickname("Client"), NicknameProblem::reserved);
  EXPECT_EQ(check_nickname("client7"), NicknameProblem::reserved);
  EXPECT_EQ(check_nickname("CLIENT_x"), NicknameProblem::reserved);
}

TEST(EqualsIgnoringCase, AsciiOnly) {
  EXPECT_TRUE(equals_ignoring_case("Alice", "aLICE"));
  EXPECT_FALSE(equals_ignoring_case("Alice", "Alic"));
  EXPECT_FALSE(equals_ignoring_case("a_", "a-"));
  EXPECT_FALSE(equals_ignoring_case("@", "`"));  // 0x40 vs 0x60: not a letter pair
}

std::optional<std::uint64_t> local_number(std::string_view target) {
  const auto parsed = parse_client_target(target);
  if (!parsed || !parsed->node.empty()) return std::nullopt;
  return parsed->number;
}

TEST(ParseClientTarget, HashAndDigits) {
  EXPECT_EQ(local_number("#1"), 1u);
  EXPECT_EQ(local_number("#18446744073709551615"), 18446744073709551615u);
  EXPECT_FALSE(parse_client_target("#18446744073709551616"));
  EXPECT_FALSE(parse_client_target("#"));
  EXPECT_FALSE(parse_client_target("1"));
  EXPECT_FALSE(parse_client_target("#-1"));
  EXPECT_FALSE(parse_client_target("#+1"));
  EXPECT_FALSE(parse_client_target("#1x"));
  EXPECT_FALSE(parse_client_target("# 1"));
  EXPECT_FALSE(parse_client_target("alice"));
}

TEST(ParseClientTarget, NodeQualified) {
  const auto target = parse_client_target("#b7:12");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->node, "b7");
  EXPECT_EQ(target->number, 12u);
  EXPECT_TRUE(parse_client_target("#abcdef12:0"));
  EXPECT_FALSE(parse_client_target("#abcdef123:1"));  // node id over 8 characters
  EXPECT_FALSE(parse_client_target("#B7:1"));         // node ids are lower case
  EXPECT_FALSE(parse_client_target("#:1"));
  EXPECT_FALSE(parse_client_target("#b7:"));
  EXPECT_FALSE(parse_client_target("#b7:1:2"));
  EXPECT_FALSE(parse_client_target("#b-7:1"));
}

TEST(ParseCommand, RoomCommands) {
  EXPECT_EQ(parse_command("/join dev").kind, CommandKind::join);
  EXPECT_EQ(parse_command("/JOIN  dev ").argument, "dev");
  EXPECT_EQ(parse_command("/join two words").argument, "two words");  // refused later
  EXPECT_EQ(parse_command("/join").argument, "");
  EXPECT_EQ(parse_command("/part now").kind, CommandKind::part);
  EXPECT_EQ(parse_command("/Rooms").kind, CommandKind::rooms);
  EXPECT_EQ(parse_command("/roomsx").kind, CommandKind::unknown);
}

TEST(RoomName, LettersDigitsUnderscoreDash) {
  EXPECT_TRUE(is_valid_room_name("lobby"));
  EXPECT_TRUE(is_valid_room_name("Dev_team-2"));
  EXPECT_TRUE(is_valid_room_name(std::string(kMaxRoomNameLength, 'r')));
  EXPECT_FALSE(is_valid_room_name(std::string(kMaxRoomNameLength + 1, 'r')));
  EXPECT_FALSE(is_valid_room_name(""));
  EXPECT_FALSE(is_valid_room_name("dev room"));
  EXPECT_FALSE(is_valid_room_name("d\xc3\xa9v"));
  EXPECT_FALSE(is_valid_room_name("#dev"));
}

TEST(NodeId, LowerCaseLettersAndDigits) {
  EXPECT_TRUE(is_valid_node_id("b7"));
  EXPECT_TRUE(is_valid_node_id("node0001"));
  EXPECT_FALSE(is_valid_node_id("node00001"));
  EXPECT_FALSE(is_valid_node_id(""));
  EXPECT_FALSE(is_valid_node_id("B7"));
  EXPECT_FALSE(is_valid_node_id("b_7"));
}

}  // namespace
}  // namespace epollchat::chat
