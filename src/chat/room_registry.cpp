#include "chat/room_registry.hpp"

#include <algorithm>
#include <utility>

#include "chat/names.hpp"

namespace epollchat::chat {

RoomRegistry::RoomRegistry() {
  auto lobby = std::make_unique<Room>(writer_, std::string(kLobby));
  lobby_ = lobby.get();
  rooms_.emplace(std::string(kLobby), std::move(lobby));
}

Room* RoomRegistry::find(std::string_view lower_case_name) {
  const auto found = rooms_.find(lower_case_name);
  return found == rooms_.end() ? nullptr : found->second.get();
}

Room& RoomRegistry::open(std::string_view name) {
  std::string key = lower_case_ascii(name);
  if (Room* room = find(key)) return *room;
  auto room = std::make_unique<Room>(writer_, key);
  Room& opened = *room;
  const auto kept = std::find_if(kept_.begin(), kept_.end(),
                                 [&key](const auto& entry) { return entry.first == key; });
  if (kept != kept_.end()) {
    opened.history() = std::move(kept->second);
    kept_.erase(kept);
  } else {
    opened.history().set_capacity(history_lines_);
  }
  rooms_.emplace(std::move(key), std::move(room));
  return opened;
}

void RoomRegistry::close_if_empty(Room& room) {
  if (&room == lobby_ || room.size() != 0) return;
  // Nothing is staged in it (remove() flushed), and queues hold their own references to
  // the chunks they still send.
  if (!room.history().is_empty()) {
    if (kept_.size() == kMaxKeptHistories) kept_.erase(kept_.begin());
    kept_.emplace_back(room.name(), std::move(room.history()));
  }
  rooms_.erase(room.name());
}

void RoomRegistry::for_each(const std::function<void(const Room&)>& each) const {
  for (const auto& [name, room] : rooms_) each(*room);
}

void RoomRegistry::broadcast_everywhere(std::string_view line) {
  for (auto& [name, room] : rooms_) room->broadcast(line, nullptr);
}

void RoomRegistry::set_history_lines(std::size_t lines) {
  history_lines_ = lines;
  for (auto& [name, room] : rooms_) room->history().set_capacity(lines);
  if (lines == 0) {
    kept_.clear();
    return;
  }
  for (auto& [name, history] : kept_) history.set_capacity(lines);
}

}  // namespace epollchat::chat
