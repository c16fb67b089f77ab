#include "chat/other_nodes.hpp"

#include "chat/room.hpp"

namespace epollchat::chat {

std::string LoneNode::history_for(const Session& /*session*/, const Room& room,
                                  std::size_t max_bytes) {
  return room.history().replay(max_bytes);
}

}  // namespace epollchat::chat
