// Node messages: what one node tells the others about its clients (the link carries them;
// cluster/message_codec.hpp gives their text form).
//
// Owns: nothing; a message's views point into the strings it was made from.
// Never: does I/O. `instance` is random per process start: a node recognises its own
// messages by it even if two nodes were given the same node id by mistake.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace epollchat::chat {

enum class NodeMessageKind : char {
  join = 'J',     // id room name: a client arrived in a room (connected or /join)
  leave = 'L',    // id room name reason: a client left a room (reason: /quit text or empty)
  rename = 'N',   // id room old_name name
  chat = 'C',     // id room name text: text is one or more chat lines joined by LF
  action = 'A',   // id room name text
  whisper = 'W',  // id name target_node target_id text
  beat = 'B',     // the node is alive
  roster = 'R',   // target_instance entries: every client of the node ("id\troom\tname" lines)
  sync = 'S',     // "send me your rosters": a node (re)joined the channel
  bye = 'X',      // the node shuts down: all its clients left
  // id room entries: a room's recorded lines, for the node that asked (request `id`), as
  // "<milliseconds> <length>\n<chat or action message>" each, oldest first
  history = 'H',
};

struct NodeMessage {
  NodeMessageKind kind = NodeMessageKind::beat;
  std::string_view instance;
  std::string_view node;
  std::uint64_t id = 0;
  std::string_view room;
  std::string_view name;
  std::string_view old_name;
  std::string_view target_node;
  std::uint64_t target_id = 0;
  std::string_view target_instance;
  std::string_view text;
};

// A message of `kind` with every other field empty.
[[nodiscard]] inline NodeMessage node_message(NodeMessageKind kind) {
  NodeMessage message;
  message.kind = kind;
  return message;
}

// The instance token: 16 lower-case hex digits.
inline constexpr std::size_t kInstanceTokenLength = 16;
[[nodiscard]] bool is_instance_token(std::string_view token) noexcept;

struct RosterEntry {
  std::uint64_t id = 0;
  std::string_view room;
  std::string_view name;
};
// A client number or id field: 1 to 20 decimal digits, no sign, no overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_message_number(std::string_view text);

// "id\troom\tname" into its fields; false if it does not have that shape (the fields are
// not validated).
[[nodiscard]] bool split_roster_entry(std::string_view line, RosterEntry& entry);
// Calls `each` for every entry of a decoded roster's text (already validated by decode).
void for_each_roster_entry(std::string_view entries,
                           const std::function<void(const RosterEntry&)>& each);
// A recorded line of a room's history: when it was recorded (Redis's clock, ms since the
// epoch) and the chat or action message it was published as (undecoded).
struct HistoryEntry {
  std::uint64_t milliseconds = 0;
  std::string_view message;
};
// Splits a history message's entries; false (after calling `each` for those before) at the
// first entry that does not have that shape.
bool for_each_history_entry(std::string_view entries,
                            const std::function<void(const HistoryEntry&)>& each);

// Appends one entry to a roster's text.
void append_roster_entry(std::string& entries, const RosterEntry& entry);

// A display name a remote node may use for one of its clients: a valid nickname, or
// "Client #<node>:<number>" for that very node and client.
[[nodiscard]] bool is_valid_remote_name(std::string_view name, std::string_view node,
                                        std::uint64_t id);

}  // namespace epollchat::chat
