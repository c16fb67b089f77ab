// Server, continued: rooms, nicknames and whispers.
#include <map>
#include <utility>

#include "chat/command.hpp"
#include "chat/protocol.hpp"
#include "chat/server.hpp"

namespace epollchat::chat {

Session* Server::find_session(std::uint64_t id) {
  const auto found = sessions_.find(id);
  return found == sessions_.end() ? nullptr : found->second.get();
}

Room* Server::find_room(std::string_view name) {
  const auto found = rooms_.find(name);
  return found == rooms_.end() ? nullptr : found->second.get();
}

Room& Server::room_named(std::string_view name) {
  std::string key = lower_case_ascii(name);
  if (Room* room = find_room(key)) return *room;
  auto room = std::make_unique<Room>(writer_, key);
  Room& created = *room;
  rooms_.emplace(std::move(key), std::move(room));
  return created;
}

void Server::drop_room_if_empty(Room& room) {
  if (&room == lobby_ || room.size() != 0) return;
  // Nothing is staged in it (remove() flushed), and queues hold their own references to
  // the chunks they still send.
  rooms_.erase(room.name());
}

std::size_t Server::population(const Room& room) const {
  return room.size() + (link_ ? directory_.count(room.name()) : 0);
}

void Server::enter(Session& session, Room& room) {
  room.add(session.connection());
  session.set_room(&room);
  flow_.entered_room(session, room);
  room.broadcast(protocol::joined_line(session.name(), population(room)), &session.connection());
  publish(message_about(NodeMessageKind::join, session, room));
}

void Server::leave_room(Session& session, std::string_view reason) {
  Room& room = *session.room();
  flow_.leaving_room(session, room);
  room.remove(session.connection());
  session.set_room(nullptr);
  if (!shutting_down_) {
    const std::size_t online = population(room);
    room.broadcast(protocol::left_line(session.name(), online, reason), nullptr);
    NodeMessage left = message_about(NodeMessageKind::leave, session, room);
    left.text = reason;
    publish(left);
  }
  drop_room_if_empty(room);
}

void Server::move(Session& session, std::string_view name) {
  leave_room(session, {});
  Room& room = room_named(name);
  enter(session, room);
  session.reply(protocol::joined_room_line(room.name(), population(room)));
}

std::string Server::rooms_lines() const {
  std::map<std::string_view, std::size_t> counts;
  for (const auto& [name, room] : rooms_) {
    if (room->size() != 0) counts[name] += room->size();
  }
  if (link_) {
    for (const auto& [name, count] : directory_.room_counts()) counts[name] += count;
  }
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
  if (link_) {
    for (const std::string_view name : directory_.names_in(room->name())) names.push_back(name);
  }
  return protocol::who_lines(names);
}

bool Server::nickname_taken(const Session& session, std::string_view nickname) const {
  const auto found = nicknames_.find(lower_case_ascii(nickname));
  if (found != nicknames_.end() && found->second != &session) return true;
  return link_ && directory_.find_by_name(nickname).has_value();
}

void Server::change_nickname(Session& session, std::string_view nickname) {
  if (nickname_taken(session, nickname)) {
    session.reply(protocol::nickname_taken_line(nickname));
    return;
  }
  // A change of case keeps the claim this node already holds.
  const bool same_name = session.has_nickname() && equals_ignoring_case(session.name(), nickname);
  if (link_ && !same_name) {
    const std::uint64_t request =
        link_->claim_nickname(lower_case_ascii(nickname), owner_of(session.id()));
    if (request != 0) {
      pending_claims_.emplace(request, PendingClaim{session.id(), std::string(nickname)});
      // Its next lines wait for the answer, so they appear under the right name.
      session.connection().pause_reading();
      return;
    }
    // The link is down: only the names this node knows can be checked.
  }
  complete_nickname_change(session, nickname);
}

void Server::on_nickname_claim(std::uint64_t request, bool claimed) {
  const auto found = pending_claims_.find(request);
  if (found == pending_claims_.end()) return;
  const PendingClaim claim = std::move(found->second);
  pending_claims_.erase(found);
  resolve_claim(claim, claimed);
}

void Server::resolve_claim(const PendingClaim& claim, bool claimed) {
  Session* session = find_session(claim.session);
  if (claim.refresh) {
    if (!claimed && session != nullptr && session->room() != nullptr && session->has_nickname() &&
        equals_ignoring_case(session->name(), claim.nickname)) {
      lose_nickname(*session);
    }
    return;
  }
  if (session == nullptr || session->room() == nullptr) {
    if (claimed) link_->release_nickname(lower_case_ascii(claim.nickname), owner_of(claim.session));
    if (session != nullptr) session->connection().unpause_reading();
    return;
  }
  session->connection().unpause_reading();
  if (!claimed || nickname_taken(*session, claim.nickname)) {
    session->reply(protocol::nickname_taken_line(claim.nickname));
    return;
  }
  complete_nickname_change(*session, claim.nickname);
}

void Server::announce_rename(const Session& session, std::string_view old_name) {
  Room* room = session.room();
  if (room == nullptr) return;
  room->broadcast(protocol::renamed_line(old_name, session.name()), &session.connection());
  NodeMessage renamed = message_about(NodeMessageKind::rename, session, *room);
  renamed.old_name = old_name;
  publish(renamed);
}

void Server::lose_nickname(Session& session) {
  const std::string old_name = session.name();
  const auto found = nicknames_.find(lower_case_ascii(old_name));
  if (found != nicknames_.end() && found->second == &session) nicknames_.erase(found);
  session.drop_nickname(protocol::client_name(node_id_, session.id()));
  log_.notice("client #" + std::to_string(session.id()) + " lost the nickname " + old_name +
              " to a client of another node (taken while the link was down)");
  announce_rename(session, old_name);
  session.reply(protocol::nickname_taken_line(old_name));
  session.reply(protocol::renamed_you_line(session.name()));
}

void Server::complete_nickname_change(Session& session, std::string_view nickname) {
  const std::string old_name = session.name();
  std::string key = lower_case_ascii(nickname);
  // Same holder (a change of case) keeps its entry; otherwise the old name is freed.
  if (nicknames_.find(key) == nicknames_.end()) {
    release_nickname(session);
    nicknames_.emplace(std::move(key), &session);
  }
  session.set_nickname(nickname);
  announce_rename(session, old_name);
  session.reply(protocol::renamed_you_line(session.name()));
}

std::string Server::owner_of(std::uint64_t id) const { return node_id_ + ":" + std::to_string(id); }

Session* Server::find_local(std::string_view target) {
  Session* session = nullptr;
  if (const auto id = parse_client_target(target)) {
    if (id->node.empty() || id->node == node_id_) session = find_session(id->number);
  } else if (check_nickname(target) == NicknameProblem::none) {
    const auto found = nicknames_.find(lower_case_ascii(target));
    if (found != nicknames_.end()) session = found->second;
  }
  // A session that left (and is only sending what was queued) is no longer addressable.
  if (session == nullptr || session->room() == nullptr) return nullptr;
  return session;
}

void Server::whisper(Session& session, std::string_view target, std::string_view text) {
  if (Session* recipient = find_local(target)) {
    recipient->reply(protocol::whisper_line(session.name(), text));
    session.reply(protocol::whisper_sent_line(recipient->name()));
    count_relayed();
    return;
  }
  std::optional<std::pair<std::string, std::uint64_t>> remote;
  if (link_) {
    if (const auto id = parse_client_target(target); id && !id->node.empty()) {
      if (directory_.find(id->node, id->number) != nullptr) {
        remote.emplace(std::string(id->node), id->number);
      }
    } else if (check_nickname(target) == NicknameProblem::none) {
      remote = directory_.find_by_name(target);
    }
  }
  if (!remote) {
    session.reply(protocol::no_such_user_line(target));
    return;
  }
  NodeMessage whispered = node_message(NodeMessageKind::whisper);
  whispered.id = session.id();
  whispered.name = session.name();
  whispered.target_node = remote->first;
  whispered.target_id = remote->second;
  whispered.text = text;
  const std::string recipient_name = directory_.find(remote->first, remote->second)->name;
  if (!publish(whispered)) {
    session.reply(protocol::whisper_not_sent_line(recipient_name));
    return;
  }
  session.reply(protocol::whisper_sent_line(recipient_name));
  count_relayed();
}

}  // namespace epollchat::chat
