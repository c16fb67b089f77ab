// The server's protocol lines, spelled exactly as the contract (notes/contract.md) and
// issue 3 give them, so tests compare whole lines instead of fragments.
#pragma once

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace epollchat::test::lines {

inline std::string welcome(int id) {
  return "Welcome to the chat room! Your chat ID is: Client #" + std::to_string(id);
}
inline std::string joined(int id, int online) {
  return "*** Client #" + std::to_string(id) + " joined (" + std::to_string(online) + " online)";
}
inline std::string left(int id, int online) {
  return "*** Client #" + std::to_string(id) + " left (" + std::to_string(online) + " online)";
}
inline std::string says(int id, std::string_view text) {
  return "Client #" + std::to_string(id) + " says >> " + std::string(text);
}
inline std::string line_too_long(std::size_t max_line) {
  return "*** Line too long (max " + std::to_string(max_line) + " bytes); dropped.";
}
inline std::string server_full(std::size_t max_clients) {
  return "*** Server full (" + std::to_string(max_clients) + " clients); try again later.";
}
inline constexpr std::string_view kAlone = "*** You are alone in the chat room.";
inline constexpr std::string_view kShuttingDown = "*** Server shutting down.";

// The id in a welcome line, or nullopt if `line` is not one.
inline std::optional<int> parse_welcome_id(std::string_view line) {
  constexpr std::string_view kPrefix = "Welcome to the chat room! Your chat ID is: Client #";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  int id = 0;
  const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), id);
  if (error != std::errc{} || end != line.data() + line.size()) return std::nullopt;
  return id;
}

}  // namespace epollchat::test::lines
