// The chat protocol's server-to-client lines, in one place.
//
// Every function here formats; none sends, allocates on the hot path or keeps state. The
// exact texts are part of the protocol (clients and acceptance tests match them), so they
// change only together with the documentation in man/epollchatd.8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epollchat::protocol {

// Lines a client receives that begin with this are server notices, not chat.
inline constexpr std::string_view kNoticePrefix = "*** ";

// The name others see for a client without a nickname: "Client #<id>", or with nodes
// linked "Client #<node>:<id>" (node not empty).
std::string client_name(std::string_view node, std::uint64_t id);

// Replaces control characters other than TAB by '?', so no peer can move another's cursor
// or inject terminal escape sequences: C0 and DEL bytes, and the C1 controls U+0080-U+009F
// in their UTF-8 form (0xC2 0x80-0x9F, both bytes), which a UTF-8 terminal may obey like
// ESC sequences (U+009B is CSI). Other bytes >= 0x80 pass unchanged: invalid UTF-8 is the
// receiving terminal's business, not a control sequence.
// Writes text.size() bytes at `out` and returns the end.
char* write_sanitized(char* out, std::string_view text) noexcept;
// Inline: write_sanitized() calls it for every byte of every relayed line, and the loop
// vectorises only if the call disappears.
[[nodiscard]] constexpr bool is_control_character(unsigned char c) noexcept {
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

// "<sender> says >> <sanitized text>\n". `out` needs chat_line_size() bytes.
[[nodiscard]] std::size_t chat_line_size(std::string_view sender, std::string_view text) noexcept;
char* write_chat_line(char* out, std::string_view sender, std::string_view text) noexcept;

// Notices and greetings; each includes its trailing LF.
std::string welcome_line(std::string_view client_name);
std::string joined_line(std::string_view name, std::size_t online);
// "*** NAME left (K online)", or with a /quit reason "*** NAME left (K online): REASON".
std::string left_line(std::string_view name, std::size_t online, std::string_view reason = {});
std::string alone_line();
std::string line_too_long_line(std::size_t max_line);
std::string server_full_line(std::size_t max_clients);
// A peer outside the allow list: "*** Connections from 203.0.113.5 are not allowed here."
std::string not_allowed_line(std::string_view address);
// Out of descriptors: "*** Server busy; try again later."
std::string server_busy_line();
std::string shutting_down_line();
// After a restart that kept the connection: "*** Server restarted; you are still NAME in
// ROOM."; after one that could not keep the session: "*** Server restarted; please
// reconnect."
std::string restarted_line(std::string_view name, std::string_view room);
std::string restarted_reconnect_line();
// To an encrypted client when the server restarts: its TLS session cannot be handed on.
std::string restarting_reconnect_line();
// Before the welcome of a client whose socket outlived a server that failed.
std::string restarted_after_failure_line();
std::string slow_down_line(std::size_t max_rate);
std::string line_timeout_line(std::size_t seconds);

// `text` cut to at most `max_bytes`, at a UTF-8 character boundary (never in the middle of
// a multi-byte sequence); unchanged if it is not longer.
std::string_view cut_to_length(std::string_view text, std::size_t max_bytes) noexcept;

// Chat commands. Peer-supplied text in any of these (a reason, an action, an
// unknown command word, a target that matched no one) is sanitized like chat text; names
// are either "Client #<id>" or validated nicknames and are copied as they are.

// "*** OLD is now known as NEW" to the others; "*** You are now known as NEW." to the sender.
std::string renamed_line(std::string_view old_name, std::string_view new_name);
std::string renamed_you_line(std::string_view new_name);
std::string nickname_unchanged_line(std::string_view name);
std::string nickname_taken_line(std::string_view name);
std::string invalid_nickname_line(std::string_view reason);
// "NAME whispers >> TEXT" to the target; "*** Sent to NAME." or "*** No such user TARGET."
// to the sender.
std::string whisper_line(std::string_view sender, std::string_view text);
std::string whisper_sent_line(std::string_view recipient);
// "*** Not sent to NAME: the link to other servers is busy; try again."
std::string whisper_not_sent_line(std::string_view recipient);
std::string no_such_user_line(std::string_view target);
// "* NAME ACTION".
std::string action_line(std::string_view name, std::string_view action);
// "*** Usage: USAGE".
std::string usage_line(std::string_view usage);
std::string unknown_command_line(std::string_view command);
// The /help text: several "*** " lines.
std::string help_lines();

// Longest "*** ..." body (without prefix and LF) of one /who line before the list
// continues on the next line; a name is never split.
inline constexpr std::size_t kWhoLineBody = 400;
// "*** N online: a, b, Client #3" in the order given; split into more "*** " lines
// ("*** d, e") when a line would pass kWhoLineBody bytes.
std::string who_lines(const std::vector<std::string_view>& names);

// Rooms. "*** Rooms: lobby (12), dev (3)" in the order given, continued like
// who_lines().
std::string rooms_lines(const std::vector<std::pair<std::string_view, std::size_t>>& rooms);
// "*** You are now in ROOM (K online)."
std::string joined_room_line(std::string_view room, std::size_t online);
std::string already_in_room_line(std::string_view room);
std::string invalid_room_line();

// Around the lines of a room's history that a joining client reads first, each with its LF.
inline constexpr std::string_view kHistoryStartLine = "*** History:\n";
inline constexpr std::string_view kHistoryEndLine = "*** End of history.\n";

// After a joining client's history while the link is down: the lines of other nodes may
// be missing from it.
std::string history_of_this_server_only_line();

// The link between nodes went down / came back.
std::string link_lost_line();
std::string link_restored_line();

}  // namespace epollchat::protocol
