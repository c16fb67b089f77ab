// The text form of node messages, as they travel over the Redis channel.
//
// Owns: nothing; a decoded NodeMessage's views point into the payload it came from.
// Never: does I/O or trusts a payload: anything that does not decode to valid fields (node
// ids, client numbers, room names, display names) is refused whole, so a broken or hostile
// publisher can inject at most chat text, which is sanitized where it is shown anyway.
//
// Format 2: a header line "2 <kind> <instance> <node>" and then the kind's fields, one per
// line; the last field (chat text, a reason, roster entries) takes the rest of the payload.
// Names, rooms and ids never contain LF (or TAB), so no escaping is needed. The leading
// number is the link format: a node refuses messages of any other (format 1, one channel for
// everything, had no number: "<kind> <instance> <node>").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "chat/node_message.hpp"

namespace epollchat::cluster {

inline constexpr unsigned kLinkFormat = 2;

// nullopt if the payload is not a valid message of format kLinkFormat.
[[nodiscard]] std::optional<chat::NodeMessage> decode_node_message(std::string_view payload);
[[nodiscard]] std::string encode_node_message(const chat::NodeMessage& message);

// What a payload's header says of its sender, read without decoding the rest: its link format
// (1 for a header without a number) and node id. nullopt if not even that can be read.
struct LinkHeader {
  unsigned format = 0;
  std::string_view node;
};
[[nodiscard]] std::optional<LinkHeader> read_link_header(std::string_view payload);

}  // namespace epollchat::cluster
