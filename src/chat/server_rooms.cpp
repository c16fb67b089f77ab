// Server, continued: moving between rooms and listing who is where.
#include <map>
#include <utility>

#include "chat/names.hpp"
#include "chat/protocol.hpp"
#include "chat/server.hpp"

namespace epollchat::chat {

std::size_t Server::population(const Room& room) const {
  return room.size() + other_nodes_->members_in(room.name());
}

bool Server::is_alone(const Room& room) const {
  return room.size() <= 1 && population(room) <= 1 && !other_nodes_->are_catching_up();
}

void Server::enter(Session& session, Room& room) {
  room.add(session.connection());
  session.set_room(&room);
  flow_.entered_room(session, room);
  room.broadcast(protocol::joined_line(session.name(), population(room)), &session.connection());
  other_nodes_->joined(session, room);
}

void Server::leave_room(Session& session, std::string_view reason) {
  Room& room = *session.room();
  flow_.leaving_room(session, room);
  room.remove(session.connection());
  session.set_room(nullptr);
  if (!shutting_down_) {
    room.broadcast(protocol::left_line(session.name(), population(room), reason), nullptr);
    other_nodes_->left(session, room, reason);
  }
  rooms_.close_if_empty(room);
}

void Server::move(Session& session, std::string_view name) {
  // Copied: leaving may close the room the session was in.
  const std::string from = log_.is_enabled(LogLevel::debug) ? session.room()->name() : "";
  other_nodes_->entering(lower_case_ascii(name));
  leave_room(session, {});
  Room& room = rooms_.open(name);
  enter(session, room);
  if (log_.is_enabled(LogLevel::debug)) {
    log_.debug("client #" + std::to_string(session.id()) + " (" + session.name() + ") moved from " +
               from + " to " + room.name());
  }
  session.reply(protocol::joined_room_line(room.name(), population(room)) +
                other_nodes_->history_for(session, room, limits_.max_backlog / 2));
}

std::string Server::rooms_lines() const {
  std::map<std::string_view, std::size_t> counts;
  rooms_.for_each([&counts](const Room& room) {
    if (room.size() != 0) counts[room.name()] += room.size();
  });
  other_nodes_->add_room_counts(counts);
  std::vector<std::pair<std::string_view, std::size_t>> listed;
  listed.reserve(counts.size() + 1);
  const auto lobby = counts.find(kLobby);
  listed.emplace_back(kLobby, lobby == counts.end() ? 0 : lobby->second);
  for (const auto& [name, count] : counts) {
    if (name != kLobby) listed.emplace_back(name, count);
  }
  return protocol::rooms_lines(listed);
}

std::string Server::who_lines(const Session& session) const {
  const Room* room = session.room();
  if (room == nullptr) return protocol::who_lines({});
  std::vector<std::string_view> names;
  names.reserve(room->size());
  for (const Connection* member : room->members()) names.push_back(Session::of(*member).name());
  other_nodes_->add_names_in(room->name(), names);
  return protocol::who_lines(names);
}

}  // namespace epollchat::chat
