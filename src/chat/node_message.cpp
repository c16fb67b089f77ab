#include "chat/node_message.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>

#include "chat/names.hpp"
#include "chat/protocol.hpp"

namespace epollchat::chat {
bool is_valid_remote_name(std::string_view name, std::string_view node, std::uint64_t id) {
  if (check_nickname(name) == NicknameProblem::none) return true;
  return name == protocol::client_name(node, id);
}

bool is_instance_token(std::string_view token) noexcept {
  return token.size() == kInstanceTokenLength &&
         std::all_of(token.begin(), token.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::uint64_t> parse_message_number(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

bool split_roster_entry(std::string_view line, RosterEntry& entry) {
  const auto first_tab = line.find('\t');
  if (first_tab == std::string_view::npos) return false;
  const auto second_tab = line.find('\t', first_tab + 1);
  if (second_tab == std::string_view::npos) return false;
  const auto id = parse_message_number(line.substr(0, first_tab));
  if (!id) return false;
  entry.id = *id;
  entry.room = line.substr(first_tab + 1, second_tab - first_tab - 1);
  entry.name = line.substr(second_tab + 1);
  return true;
}

void for_each_roster_entry(std::string_view entries,
                           const std::function<void(const RosterEntry&)>& each) {
  while (!entries.empty()) {
    const auto end = entries.find('\n');
    const std::string_view line = entries.substr(0, end);
    entries.remove_prefix(end == std::string_view::npos ? entries.size() : end + 1);
    RosterEntry entry;
    // The node is only needed to validate names, which decode already did.
    if (split_roster_entry(line, entry)) each(entry);
  }
}
void append_roster_entry(std::string& entries, const RosterEntry& entry) {
  if (!entries.empty()) entries.push_back('\n');
  entries.append(std::to_string(entry.id))
      .append("\t")
      .append(entry.room)
      .append("\t")
      .append(entry.name);
}

bool for_each_history_entry(std::string_view entries,
                            const std::function<void(const HistoryEntry&)>& each) {
  while (!entries.empty()) {
    // "<milliseconds> <length>\n<message>"
    const auto space = entries.find(' ');
    const auto end_of_head = entries.find('\n');
    if (space == std::string_view::npos || end_of_head == std::string_view::npos ||
        space > end_of_head) {
      return false;
    }
    const auto milliseconds = parse_message_number(entries.substr(0, space));
    const auto length = parse_message_number(entries.substr(space + 1, end_of_head - space - 1));
    entries.remove_prefix(end_of_head + 1);
    if (!milliseconds || !length || *length > entries.size()) return false;
    each(HistoryEntry{*milliseconds, entries.substr(0, *length)});
    entries.remove_prefix(*length);
  }
  return true;
}

}  // namespace epollchat::chat
