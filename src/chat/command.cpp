#include "chat/command.hpp"

#include <cstddef>

#include "chat/names.hpp"

namespace epollchat::chat {
namespace {

constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view skip_blanks(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size() && is_blank(text[i])) ++i;
  return text.substr(i);
}

std::string_view trim_trailing_blanks(std::string_view text) noexcept {
  std::size_t end = text.size();
  while (end > 0 && is_blank(text[end - 1])) --end;
  return text.substr(0, end);
}

// Splits off the first word; `rest` starts after the blanks that follow it.
std::string_view take_word(std::string_view& rest) noexcept {
  std::size_t end = 0;
  while (end < rest.size() && !is_blank(rest[end])) ++end;
  const std::string_view word = rest.substr(0, end);
  rest = skip_blanks(rest.substr(end));
  return word;
}

}  // namespace

Command parse_command(std::string_view line) noexcept {
  if (line.empty() || line.front() != '/') return {CommandKind::chat, {}, line};
  if (line.size() >= 2 && line[1] == '/') return {CommandKind::chat, {}, line.substr(1)};

  std::string_view rest = line.substr(1);
  const std::string_view word = take_word(rest);
  // Arguments end at the last non-blank: trailing blanks are invisible on the sender's screen.
  rest = trim_trailing_blanks(rest);

  if (equals_ignoring_case(word, "nick")) return {CommandKind::nick, rest, {}};
  if (equals_ignoring_case(word, "who")) return {CommandKind::who, {}, {}};
  if (equals_ignoring_case(word, "msg")) {
    const std::string_view target = take_word(rest);
    return {CommandKind::msg, target, rest};
  }
  if (equals_ignoring_case(word, "me")) return {CommandKind::me, {}, rest};
  if (equals_ignoring_case(word, "help")) return {CommandKind::help, {}, {}};
  if (equals_ignoring_case(word, "quit")) return {CommandKind::quit, {}, rest};
  // Like /nick: the whole rest is the name, so "/join two words" is refused, not "two".
  if (equals_ignoring_case(word, "join")) return {CommandKind::join, rest, {}};
  if (equals_ignoring_case(word, "part")) return {CommandKind::part, {}, {}};
  if (equals_ignoring_case(word, "rooms")) return {CommandKind::rooms, {}, {}};
  return {CommandKind::unknown, word, {}};
}

}  // namespace epollchat::chat
