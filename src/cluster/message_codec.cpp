#include "cluster/message_codec.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "chat/names.hpp"

namespace epollchat::cluster {
namespace {

using chat::NodeMessage;
using chat::NodeMessageKind;
using chat::RosterEntry;

// The next LF-terminated field; false if there is no LF left.
bool take_field(std::string_view& rest, std::string_view& field) {
  const auto end = rest.find('\n');
  if (end == std::string_view::npos) return false;
  field = rest.substr(0, end);
  rest.remove_prefix(end + 1);
  return true;
}

bool take_number(std::string_view& rest, std::uint64_t& value) {
  std::string_view field;
  if (!take_field(rest, field)) return false;
  const auto parsed = chat::parse_message_number(field);
  if (!parsed) return false;
  value = *parsed;
  return true;
}

// Rooms travel in their lower-case form.
bool is_room_field(std::string_view room) {
  return chat::is_valid_room_name(room) &&
         std::none_of(room.begin(), room.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool take_room(std::string_view& rest, std::string_view& room) {
  return take_field(rest, room) && is_room_field(room);
}

constexpr std::string_view kFormatPrefix = "2 ";
static_assert(kLinkFormat == 2, "kFormatPrefix names the format");

bool is_known_kind(char kind) {
  return std::string_view("JLNCAWBRSXH").find(kind) != std::string_view::npos;
}

bool decode_roster_entry(std::string_view line, std::string_view node, RosterEntry& entry) {
  return chat::split_roster_entry(line, entry) && is_room_field(entry.room) &&
         chat::is_valid_remote_name(entry.name, node, entry.id);
}

}  // namespace

std::optional<NodeMessage> decode_node_message(std::string_view payload) {
  NodeMessage message;
  std::string_view header;
  std::string_view rest = payload;
  if (!take_field(rest, header)) {
    // A message without fields is only its header.
    header = std::exchange(rest, std::string_view());
  }
  // "2 <kind> <instance> <node>"
  if (!header.starts_with(kFormatPrefix)) return std::nullopt;
  header.remove_prefix(kFormatPrefix.size());
  if (header.size() < 4 || header[1] != ' ' || !is_known_kind(header[0])) return std::nullopt;
  message.kind = static_cast<NodeMessageKind>(header[0]);
  header.remove_prefix(2);
  const auto space = header.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  message.instance = header.substr(0, space);
  message.node = header.substr(space + 1);
  if (!chat::is_instance_token(message.instance) || !chat::is_valid_node_id(message.node))
    return std::nullopt;

  switch (message.kind) {
    case NodeMessageKind::join:
    case NodeMessageKind::leave:
    case NodeMessageKind::chat:
    case NodeMessageKind::action:
      if (!take_number(rest, message.id) || !take_room(rest, message.room)) return std::nullopt;
      if (message.kind == NodeMessageKind::join) {
        message.name = rest;
      } else if (!take_field(rest, message.name)) {
        return std::nullopt;
      } else {
        message.text = rest;
      }
      if (!chat::is_valid_remote_name(message.name, message.node, message.id)) return std::nullopt;
      if (message.kind == NodeMessageKind::chat || message.kind == NodeMessageKind::action) {
        if (message.text.empty()) return std::nullopt;
      }
      return message;
    case NodeMessageKind::rename:
      if (!take_number(rest, message.id) || !take_room(rest, message.room) ||
          !take_field(rest, message.old_name)) {
        return std::nullopt;
      }
      message.name = rest;
      if (!chat::is_valid_remote_name(message.old_name, message.node, message.id) ||
          !chat::is_valid_remote_name(message.name, message.node, message.id)) {
        return std::nullopt;
      }
      return message;
    case NodeMessageKind::whisper:
      if (!take_number(rest, message.id) || !take_field(rest, message.name) ||
          !take_field(rest, message.target_node) || !take_number(rest, message.target_id)) {
        return std::nullopt;
      }
      message.text = rest;
      if (!chat::is_valid_remote_name(message.name, message.node, message.id) ||
          !chat::is_valid_node_id(message.target_node) || message.text.empty()) {
        return std::nullopt;
      }
      return message;
    case NodeMessageKind::roster: {
      if (!take_field(rest, message.target_instance) ||
          !chat::is_instance_token(message.target_instance)) {
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
    case NodeMessageKind::history:
      if (!take_number(rest, message.id) || !take_room(rest, message.room) ||
          !chat::for_each_history_entry(rest, [](const chat::HistoryEntry&) {})) {
        return std::nullopt;
      }
      message.text = rest;
      return message;
    case NodeMessageKind::beat:
    case NodeMessageKind::sync:
    case NodeMessageKind::bye:
      return rest.empty() ? std::optional(message) : std::nullopt;
  }
  return std::nullopt;
}

std::string encode_node_message(const NodeMessage& message) {
  std::string out;
  out.reserve(64 + message.name.size() + message.old_name.size() + message.text.size());
  out.append(kFormatPrefix);
  out.push_back(static_cast<char>(message.kind));
  out.append(" ").append(message.instance).append(" ").append(message.node);
  const auto field = [&out](std::string_view value) { out.append("\n").append(value); };
  switch (message.kind) {
    case NodeMessageKind::join:
      field(std::to_string(message.id));
      field(message.room);
      field(message.name);
      break;
    case NodeMessageKind::leave:
    case NodeMessageKind::chat:
    case NodeMessageKind::action:
      field(std::to_string(message.id));
      field(message.room);
      field(message.name);
      field(message.text);
      break;
    case NodeMessageKind::rename:
      field(std::to_string(message.id));
      field(message.room);
      field(message.old_name);
      field(message.name);
      break;
    case NodeMessageKind::whisper:
      field(std::to_string(message.id));
      field(message.name);
      field(message.target_node);
      field(std::to_string(message.target_id));
      field(message.text);
      break;
    case NodeMessageKind::roster:
      field(message.target_instance);
      field(message.text);
      break;
    case NodeMessageKind::history:
      field(std::to_string(message.id));
      field(message.room);
      field(message.text);
      break;
    case NodeMessageKind::beat:
    case NodeMessageKind::sync:
    case NodeMessageKind::bye:
      break;
  }
  return out;
}

std::optional<LinkHeader> read_link_header(std::string_view payload) {
  std::string_view header = payload.substr(0, payload.find('\n'));
  LinkHeader read;
  read.format = 1;
  // "<format> <kind> <instance> <node>", or "<kind> <instance> <node>" for format 1.
  // Kinds are letters, so a leading number is a format.
  if (!header.empty() && header[0] >= '0' && header[0] <= '9') {
    const auto format = chat::parse_message_number(header.substr(0, header.find(' ')));
    if (!format || *format > std::numeric_limits<unsigned>::max()) return std::nullopt;
    read.format = static_cast<unsigned>(*format);
  }
  const auto node_start = header.rfind(' ');
  if (node_start == std::string_view::npos) return std::nullopt;
  read.node = header.substr(node_start + 1);
  if (!chat::is_valid_node_id(read.node)) return std::nullopt;
  return read;
}

}  // namespace epollchat::cluster
