// The text form of node messages, as they travel over the Redis channel.
//
// Owns: nothing; a decoded NodeMessage's views point into the payload it came from.
// Never: does I/O or trusts a payload: anything that does not decode to valid fields (node
// ids, client numbers, room names, display names) is refused whole, so a broken or hostile
// publisher can inject at most chat text, which is sanitized where it is shown anyway.
//
// Format: a header line "<kind> <instance> <node>" and then the kind's fields, one per line;
// the last field (chat text, a reason, roster entries) takes the rest of the payload. Names,
// rooms and ids never contain LF (or TAB), so no escaping is needed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "chat/node_message.hpp"

namespace epollchat::cluster {

// nullopt if the payload is not a valid message.
[[nodiscard]] std::optional<chat::NodeMessage> decode_node_message(std::string_view payload);
[[nodiscard]] std::string encode_node_message(const chat::NodeMessage& message);

}  // namespace epollchat::cluster
