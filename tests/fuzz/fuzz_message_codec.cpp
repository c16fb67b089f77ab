// libFuzzer target: cluster message decoding against arbitrary payloads, as a hostile or
// broken publisher on the Redis channel could send them.
// Checks its promises, not just that it survives: every decoded view lies inside the payload,
// the fields are valid (instance token, node id, lower-case room, a name the node may use),
// what decodes re-encodes to a payload that decodes to the same fields, and a decoded
// roster's entries iterate safely and are each valid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/names.hpp"
#include "chat/node_message.hpp"
#include "cluster/message_codec.hpp"

namespace {

using epollchat::chat::NodeMessage;
using epollchat::chat::NodeMessageKind;

void require(bool condition) {
  if (!condition) std::abort();
}

bool is_inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool is_lower_case_room(std::string_view room) {
  if (!epollchat::chat::is_valid_room_name(room)) return false;
  for (const char c : room) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

bool has_room(NodeMessageKind kind) {
  return kind == NodeMessageKind::join || kind == NodeMessageKind::leave ||
         kind == NodeMessageKind::rename || kind == NodeMessageKind::chat ||
         kind == NodeMessageKind::action;
}

bool has_name(NodeMessageKind kind) { return has_room(kind) || kind == NodeMessageKind::whisper; }

bool same_fields(const NodeMessage& a, const NodeMessage& b) {
  return a.kind == b.kind && a.instance == b.instance && a.node == b.node && a.id == b.id &&
         a.room == b.room && a.name == b.name && a.old_name == b.old_name &&
         a.target_node == b.target_node && a.target_id == b.target_id &&
         a.target_instance == b.target_instance && a.text == b.text;
}

void check_fields(const NodeMessage& message, std::string_view payload) {
  for (const std::string_view view :
       {message.instance, message.node, message.room, message.name, message.old_name,
        message.target_node, message.target_instance, message.text}) {
    require(is_inside(view, payload));
  }
  require(message.instance.size() == epollchat::chat::kInstanceTokenLength);
  require(epollchat::chat::is_valid_node_id(message.node));
  if (has_room(message.kind)) require(is_lower_case_room(message.room));
  if (has_name(message.kind)) {
    require(epollchat::chat::is_valid_remote_name(message.name, message.node, message.id));
  }
  if (message.kind == NodeMessageKind::rename) {
    require(epollchat::chat::is_valid_remote_name(message.old_name, message.node, message.id));
  }
  if (message.kind == NodeMessageKind::whisper) {
    require(epollchat::chat::is_valid_node_id(message.target_node));
  }
  if (message.kind == NodeMessageKind::chat || message.kind == NodeMessageKind::action ||
      message.kind == NodeMessageKind::whisper) {
    require(!message.text.empty());
  }
  if (message.kind == NodeMessageKind::roster) {
    require(message.target_instance.size() == epollchat::chat::kInstanceTokenLength);
    // Rebuilding the roster from its entries gives back the same entries, each valid.
    std::string rebuilt;
    std::size_t count = 0;
    epollchat::chat::for_each_roster_entry(
        message.text, [&](const epollchat::chat::RosterEntry& entry) {
          require(is_inside(entry.room, message.text) && is_inside(entry.name, message.text));
          require(is_lower_case_room(entry.room));
          require(epollchat::chat::is_valid_remote_name(entry.name, message.node, entry.id));
          epollchat::chat::append_roster_entry(rebuilt, entry);
          ++count;
        });
    std::size_t rebuilt_count = 0;
    epollchat::chat::for_each_roster_entry(
        rebuilt, [&](const epollchat::chat::RosterEntry&) { ++rebuilt_count; });
    require(rebuilt_count == count);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  // Iterating any text as a roster must be safe, validated or not.
  std::size_t entries = 0;
  epollchat::chat::for_each_roster_entry(payload, [&](const epollchat::chat::RosterEntry& entry) {
    require(is_inside(entry.room, payload) && is_inside(entry.name, payload));
    ++entries;
  });
  require(entries <= payload.size());

  const auto decoded = epollchat::cluster::decode_node_message(payload);
  if (!decoded) return 0;
  check_fields(*decoded, payload);

  const std::string encoded = epollchat::cluster::encode_node_message(*decoded);
  const auto again = epollchat::cluster::decode_node_message(encoded);
  require(again.has_value());
  require(same_fields(*decoded, *again));
  // Encoding is canonical: a second round gives the same bytes.
  require(epollchat::cluster::encode_node_message(*again) == encoded);
  return 0;
}
