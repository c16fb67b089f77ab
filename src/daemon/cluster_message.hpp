// Cluster messages: what one node tells the others over the Redis channel, as text.
//
// Owns: nothing; a decoded ClusterMessage's views point into the payload it came from.
// Never: does I/O or trusts a payload: anything that does not decode to valid fields (node
// ids, client numbers, room names, display names) is refused whole, so a broken or hostile
// publisher can inject at most chat text, which is sanitized where it is shown anyway.
//
// Format: a header line "<kind> <instance> <node>" and then the kind's fields, one per line;
// the last field (chat text, a reason, roster entries) takes the rest of the payload. Names,
// rooms and ids never contain LF (or TAB), so no escaping is needed. `instance` is random
// per process start: a node recognises its own messages by it even if two nodes were given
// the same node id by mistake.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace epollchat::daemon {

enum class ClusterMessageKind : char {
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
};

struct ClusterMessage {
  ClusterMessageKind kind = ClusterMessageKind::beat;
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
[[nodiscard]] inline ClusterMessage cluster_message(ClusterMessageKind kind) {
  ClusterMessage message;
  message.kind = kind;
  return message;
}

// The instance token: 16 lower-case hex digits.
inline constexpr std::size_t kInstanceTokenLength = 16;

// nullopt if the payload is not a valid message.
[[nodiscard]] std::optional<ClusterMessage> decode_cluster_message(std::string_view payload);
[[nodiscard]] std::string encode_cluster_message(const ClusterMessage& message);

struct RosterEntry {
  std::uint64_t id = 0;
  std::string_view room;
  std::string_view name;
};
// Calls `each` for every entry of a decoded roster's text (already validated by decode).
void for_each_roster_entry(std::string_view entries,
                           const std::function<void(const RosterEntry&)>& each);
// Appends one entry to a roster's text.
void append_roster_entry(std::string& entries, const RosterEntry& entry);

// A display name a remote node may use for one of its clients: a valid nickname, or
// "Client #<node>:<number>" for that very node and client.
[[nodiscard]] bool is_valid_remote_name(std::string_view name, std::string_view node,
                                        std::uint64_t id);

}  // namespace epollchat::daemon
