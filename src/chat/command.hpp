// Command: what one input line asks of the server — chat text or a slash command.
//
// Owns: nothing. A Command's views point into the line it was parsed from and are valid only
// as long as that line.
// Never: does I/O, allocates, or knows sessions, rooms or the registry of nicknames; it only
// reads the line (the rules for names are in chat/names.hpp).
// Lifetime: parse_command() is a pure function; use its result within the line's callback.
//
// Syntax: a line starting with '/' is a command; `//text` is the chat line `/text`. The
// command word runs up to the first space or TAB and is matched case-insensitively; blanks
// (spaces and TABs) separate arguments. The caller decides whether a line is a command with
// one byte check, so chat lines never reach this parser.
#pragma once

#include <cstdint>
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

}  // namespace epollchat::chat
