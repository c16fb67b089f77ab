// Command: what one input line asks of the server — chat text or a slash command.
//
// Owns: nothing. A Command's views point into the line it was parsed from and are valid only
// as long as that line.
// Never: does I/O, allocates, or knows sessions, rooms or the registry of nicknames; it only
// reads the line. Nickname syntax lives here too because it is part of reading `/nick`.
// Lifetime: parse_command() is a pure function; use its result within the line's callback.
//
// Syntax: a line starting with '/' is a command; `//text` is the chat line `/text`. The
// command word runs up to the first space or TAB and is matched case-insensitively; blanks
// (spaces and TABs) separate arguments. The caller decides whether a line is a command with
// one byte check, so chat lines never reach this parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epollchat::chat {

enum class CommandKind : std::uint8_t {
  chat,     // `text` is chat text (from `//text`: the line without its first '/')
  nick,     // /nick NAME: `argument` is NAME (may be empty or malformed: check it)
  who,      // /who (arguments ignored)
  msg,      // /msg TARGET TEXT: `argument` TARGET, `text` TEXT (either may be empty)
  me,       // /me ACTION: `text` ACTION (may be empty)
  help,     // /help (arguments ignored)
  quit,     // /quit [REASON]: `text` REASON (may be empty)
  join,     // /join ROOM: `argument` is everything after the command word (check it)
  part,     // /part (arguments ignored)
  rooms,    // /rooms (arguments ignored)
  unknown,  // `argument` is the command word without '/', as sent (may be empty)
};

struct Command {
  CommandKind kind = CommandKind::chat;
  std::string_view argument;
  std::string_view text;
};

// Parses one complete line (no terminator). A line not starting with '/' is chat.
[[nodiscard]] Command parse_command(std::string_view line) noexcept;

// Why a nickname is refused.
enum class NicknameProblem : std::uint8_t {
  none,
  malformed,  // not 1 to kMaxNicknameLength letters, digits, '_' or '-'
  reserved,   // starts with "Client" in any case: it could pass for another client's id
};
inline constexpr std::size_t kMaxNicknameLength = 24;

[[nodiscard]] NicknameProblem check_nickname(std::string_view name) noexcept;

// ASCII lower case: the registry key of a nickname, the name of a room.
[[nodiscard]] std::string lower_case_ascii(std::string_view text);

// ASCII case-insensitive equality (nicknames and command words are ASCII).
[[nodiscard]] bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept;

// Room names: 1 to kMaxRoomNameLength letters, digits, '_' or '-', compared without case.
inline constexpr std::size_t kMaxRoomNameLength = 32;
inline constexpr std::string_view kLobby = "lobby";
[[nodiscard]] bool is_valid_room_name(std::string_view name) noexcept;

// Node ids (the `b7` of `Client #b7:12` when nodes are linked): 1 to kMaxNodeIdLength
// lower-case letters or digits.
inline constexpr std::size_t kMaxNodeIdLength = 8;
[[nodiscard]] bool is_valid_node_id(std::string_view id) noexcept;

// A `#<id>` or `#<node>:<id>` target ("#17", "#b7:17"): `node` is empty in the first form.
struct ClientTarget {
  std::string_view node;
  std::uint64_t number = 0;
};
// nullopt if `target` is not exactly one of those forms (decimal digits only, no sign, no
// overflow, a valid node id).
[[nodiscard]] std::optional<ClientTarget> parse_client_target(std::string_view target) noexcept;

}  // namespace epollchat::chat
