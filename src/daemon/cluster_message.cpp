#include "daemon/cluster_message.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "core/command.hpp"
#include "core/protocol.hpp"

namespace epollchat::daemon {
namespace {

// The next LF-terminated field; false if there is no LF left.
bool take_field(std::string_view& rest, std::string_view& field) {
  const auto end = rest.find('\n');
  if (end == std::string_view::npos) return false;
  field = rest.substr(0, end);
  rest.remove_prefix(end + 1);
  return true;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

bool take_number(std::string_view& rest, std::uint64_t& value) {
  std::string_view field;
  if (!take_field(rest, field)) return false;
  const auto parsed = parse_number(field);
  if (!parsed) return false;
  value = *parsed;
  return true;
}

bool is_instance_token(std::string_view token) {
  return token.size() == kInstanceTokenLength &&
         std::all_of(token.begin(), token.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Rooms travel in their lower-case form.
bool is_room_field(std::string_view room) {
  return is_valid_room_name(room) &&
         std::none_of(room.begin(), room.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool take_room(std::string_view& rest, std::string_view& room) {
  return take_field(rest, room) && is_room_field(room);
}

bool is_known_kind(char kind) {
  return std::string_view("JLNCAWBRSX").find(kind) != std::string_view::npos;
}

// "id\troom\tname" into its fields; false if it does not have that shape.
bool split_roster_entry(std::string_view line, RosterEntry& entry) {
  const auto first_tab = line.find('\t');
  if (first_tab == std::string_view::npos) return false;
  const auto second_tab = line.find('\t', first_tab + 1);
  if (second_tab == std::string_view::npos) return false;
  const auto id = parse_number(line.substr(0, first_tab));
  if (!id) return false;
  entry.id = *id;
  entry.room = line.substr(first_tab + 1, second_tab - first_tab - 1);
  entry.name = line.substr(second_tab + 1);
  return true;
}

bool decode_roster_entry(std::string_view line, std::string_view node, RosterEntry& entry) {
  return split_roster_entry(line, entry) && is_room_field(entry.room) &&
         is_valid_remote_name(entry.name, node, entry.id);
}

}  // namespace

bool is_valid_remote_name(std::string_view name, std::string_view node, std::uint64_t id) {
  if (check_nickname(name) == NicknameProblem::none) return true;
  return name == protocol::client_name(node, id);
}

std::optional<ClusterMessage> decode_cluster_message(std::string_view payload) {
  ClusterMessage message;
  std::string_view header;
  std::string_view rest = payload;
  if (!take_field(rest, header)) {
    // A message without fields is only its header.
    header = std::exchange(rest, std::string_view());
  }
  // "<kind> <instance> <node>"
  if (header.size() < 4 || header[1] != ' ' || !is_known_kind(header[0])) return std::nullopt;
  message.kind = static_cast<ClusterMessageKind>(header[0]);
  header.remove_prefix(2);
  const auto space = header.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  message.instance = header.substr(0, space);
  message.node = header.substr(space + 1);
  if (!is_instance_token(message.instance) || !is_valid_node_id(message.node)) return std::nullopt;

  switch (message.kind) {
    case ClusterMessageKind::join:
    case ClusterMessageKind::leave:
    case ClusterMessageKind::chat:
    case ClusterMessageKind::action:
      if (!take_number(rest, message.id) || !take_room(rest, message.room)) return std::nullopt;
      if (message.kind == ClusterMessageKind::join) {
        message.name = rest;
      } else if (!take_field(rest, message.name)) {
        return std::nullopt;
      } else {
        message.text = rest;
      }
      if (!is_valid_remote_name(message.name, message.node, message.id)) return std::nullopt;
      if (message.kind == ClusterMessageKind::chat || message.kind == ClusterMessageKind::action) {
        if (message.text.empty()) return std::nullopt;
      }
      return message;
    case ClusterMessageKind::rename:
      if (!take_number(rest, message.id) || !take_room(rest, message.room) ||
          !take_field(rest, message.old_name)) {
        return std::nullopt;
      }
      message.name = rest;
      if (!is_valid_remote_name(message.old_name, message.node, message.id) ||
          !is_valid_remote_name(message.name, message.node, message.id)) {
        return std::nullopt;
      }
      return message;
    case ClusterMessageKind::whisper:
      if (!take_number(rest, message.id) || !take_field(rest, message.name) ||
          !take_field(rest, message.target_node) || !take_number(rest, message.target_id)) {
        return std::nullopt;
      }
      message.text = rest;
      if (!is_valid_remote_name(message.name, message.node, message.id) ||
          !is_valid_node_id(message.target_node) || message.text.empty()) {
        return std::nullopt;
      }
      return message;
    case ClusterMessageKind::roster: {
      if (!take_field(rest, message.target_instance) ||
          !is_instance_token(message.target_instance)) {
        return std::nullopt;
      }
      message.text = rest;
      std::string_view entries = rest;
      std::string_view line;
      while (!entries.empty()) {
        if (!take_field(entries, line)) {
          line = std::exchange(entries, std::string_view());
        }
        RosterEntry entry;
        if (!decode_roster_entry(line, message.node, entry)) return std::nullopt;
      }
      return message;
    }
    case ClusterMessageKind::beat:
    case ClusterMessageKind::sync:
    case ClusterMessageKind::bye:
      return rest.empty() ? std::optional(message) : std::nullopt;
  }
  return std::nullopt;
}

std::string encode_cluster_message(const ClusterMessage& message) {
  std::string out;
  out.reserve(64 + message.name.size() + message.old_name.size() + message.text.size());
  out.push_back(static_cast<char>(message.kind));
  out.append(" ").append(message.instance).append(" ").append(message.node);
  const auto field = [&out](std::string_view value) { out.append("\n").append(value); };
  switch (message.kind) {
    case ClusterMessageKind::join:
      field(std::to_string(message.id));
      field(message.room);
      field(message.name);
      break;
    case ClusterMessageKind::leave:
    case ClusterMessageKind::chat:
    case ClusterMessageKind::action:
      field(std::to_string(message.id));
      field(message.room);
      field(message.name);
      field(message.text);
      break;
    case ClusterMessageKind::rename:
      field(std::to_string(message.id));
      field(message.room);
      field(message.old_name);
      field(message.name);
      break;
    case ClusterMessageKind::whisper:
      field(std::to_string(message.id));
      field(message.name);
      field(message.target_node);
      field(std::to_string(message.target_id));
      field(message.text);
      break;
    case ClusterMessageKind::roster:
      field(message.target_instance);
      field(message.text);
      break;
    case ClusterMessageKind::beat:
    case ClusterMessageKind::sync:
    case ClusterMessageKind::bye:
      break;
  }
  return out;
}

void for_each_roster_entry(std::string_view entries,
                           const std::function<void(const RosterEntry&)>& each) {
  std::string_view line;
  while (!entries.empty()) {
    if (!take_field(entries, line)) line = std::exchange(entries, std::string_view());
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

}  // namespace epollchat::daemon
