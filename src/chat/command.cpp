#include "chat/command.hpp"

#include <algorithm>

#include <charconv>
#include <system_error>

namespace epollchat::chat {
namespace {

constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

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

constexpr bool is_nickname_character(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

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

NicknameProblem check_nickname(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxNicknameLength) return NicknameProblem::malformed;
  for (const char c : name) {
    if (!is_nickname_character(c)) return NicknameProblem::malformed;
  }
  constexpr std::string_view kReservedPrefix = "client";
  if (name.size() >= kReservedPrefix.size() &&
      equals_ignoring_case(name.substr(0, kReservedPrefix.size()), kReservedPrefix)) {
    return NicknameProblem::reserved;
  }
  return NicknameProblem::none;
}

std::string lower_case_ascii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = to_lower(c);
  return lower;
}

bool is_valid_room_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxRoomNameLength) return false;
  return std::all_of(name.begin(), name.end(), is_nickname_character);
}

bool is_valid_node_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxNodeIdLength) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

std::optional<ClientTarget> parse_client_target(std::string_view target) noexcept {
  if (target.size() < 2 || target.front() != '#') return std::nullopt;
  target.remove_prefix(1);
  ClientTarget result;
  if (const auto colon = target.find(':'); colon != std::string_view::npos) {
    result.node = target.substr(0, colon);
    if (!is_valid_node_id(result.node)) return std::nullopt;
    target.remove_prefix(colon + 1);
  }
  // from_chars accepts no sign or blanks for unsigned types; checked anyway for clarity.
  if (target.empty() || target.front() < '0' || target.front() > '9') return std::nullopt;
  const char* last = target.data() + target.size();
  const auto [end, error] = std::from_chars(target.data(), last, result.number);
  if (error != std::errc{} || end != last) return std::nullopt;
  return result;
}

}  // namespace epollchat::chat
