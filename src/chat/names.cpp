#include "chat/names.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace epollchat::chat {
namespace {

constexpr char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
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
