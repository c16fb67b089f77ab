// RoomRegistry: the rooms of this node — the lobby, always there, and every other room while
// someone is in it — and the one chunk they all format their lines into.
//
// Owns: the rooms, by lower-case name, and the chunk pool and writer behind them.
// Never: moves anyone between rooms or words a notice (the server does); keeps an empty room
// other than the lobby once told it may be closed.
// Histories: every room keeps its last history_lines() chat lines while it is open. When a
// room closes, its history is kept aside, for the kMaxKeptHistories rooms closed last (the
// oldest is dropped first), and given back if the room opens again; the lobby never closes.
// So memory holds at most (open rooms + kMaxKeptHistories) x history_lines() lines.
// Lifetime: owned by the Server and declared before its sessions, so that the sessions'
// queues give their chunks back to the pool before it goes.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/room.hpp"
#include "chat/room_history.hpp"
#include "core/chunk.hpp"
#include "core/chunk_writer.hpp"

namespace epollchat::chat {

class RoomRegistry {
 public:
  // Closed rooms whose histories are kept.
  static constexpr std::size_t kMaxKeptHistories = 64;

  RoomRegistry();
  RoomRegistry(const RoomRegistry&) = delete;
  RoomRegistry& operator=(const RoomRegistry&) = delete;

  [[nodiscard]] Room& lobby() noexcept { return *lobby_; }
  // The room called `lower_case_name`, or null if nobody is in it.
  [[nodiscard]] Room* find(std::string_view lower_case_name);
  // The room called `name` (a valid room name, in any case), opened if it was not.
  Room& open(std::string_view name);
  // Closes `room` if it is empty and not the lobby; `room` may be gone afterwards.
  void close_if_empty(Room& room);

  // Rooms open now, the lobby included.
  [[nodiscard]] std::size_t size() const noexcept { return rooms_.size(); }
  // Calls `each` for every open room, in name order.
  void for_each(const std::function<void(const Room&)>& each) const;
  // Queues the batch a room has staged, if any, now.
  void flush_staged() { writer_.flush_staged(); }
  // Queues `line` to every member of every room.
  void broadcast_everywhere(std::string_view line);

  // How many lines each room keeps from now on (0: none); applies to every room, open or
  // closed, keeping the newest lines.
  void set_history_lines(std::size_t lines);
  [[nodiscard]] std::size_t history_lines() const noexcept { return history_lines_; }
  // Closed rooms whose history is kept now.
  [[nodiscard]] std::size_t kept_histories() const noexcept { return kept_.size(); }

 private:
  ChunkPool pool_;
  ChunkWriter writer_{pool_};
  std::map<std::string, std::unique_ptr<Room>, std::less<>> rooms_;
  Room* lobby_ = nullptr;
  std::size_t history_lines_ = 0;
  // The histories of closed rooms, by lower-case name, the room closed last at the back.
  std::vector<std::pair<std::string, RoomHistory>> kept_;
};

}  // namespace epollchat::chat
