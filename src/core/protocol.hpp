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

namespace epollchat::protocol {

// Lines a client receives that begin with this are server notices, not chat.
inline constexpr std::string_view kNoticePrefix = "*** ";

// The name others see for a client without a nickname: "Client #<id>".
std::string client_name(std::uint64_t id);

// Replaces control characters other than TAB (C0 and DEL) by '?', so no peer can move
// another's cursor or inject terminal escape sequences. Bytes >= 0x80 pass unchanged:
// invalid UTF-8 is the receiving terminal's business, not a control sequence.
// Writes text.size() bytes at `out` and returns the end.
char* write_sanitized(char* out, std::string_view text) noexcept;
[[nodiscard]] bool is_control_character(unsigned char c) noexcept;

// "<sender> says >> <sanitized text>\n". `out` needs chat_line_size() bytes.
[[nodiscard]] std::size_t chat_line_size(std::string_view sender, std::string_view text) noexcept;
char* write_chat_line(char* out, std::string_view sender, std::string_view text) noexcept;

// Notices and greetings; each includes its trailing LF.
std::string welcome_line(std::uint64_t id);
std::string joined_line(std::string_view name, std::size_t online);
std::string left_line(std::string_view name, std::size_t online);
std::string alone_line();
std::string line_too_long_line(std::size_t max_line);
std::string server_full_line(std::size_t max_clients);
std::string shutting_down_line();
std::string slow_down_line(std::size_t max_rate);
std::string line_timeout_line(std::size_t seconds);

}  // namespace epollchat::protocol
