// Server, continued: nicknames (/nick, and losing one to another node) and finding a client
// by name or id (/msg).
#include "chat/names.hpp"
#include "chat/protocol.hpp"
#include "chat/server.hpp"

namespace epollchat::chat {

bool Server::is_nickname_taken(const Session& session, std::string_view nickname) const {
  return nicknames_.is_held_by_other(nickname, session.id()) ||
         other_nodes_->hold_nickname(nickname);
}

void Server::change_nickname(Session& session, std::string_view nickname) {
  if (is_nickname_taken(session, nickname)) {
    session.reply(protocol::nickname_taken_line(nickname));
    return;
  }
  // A change of case keeps the claim this node already holds.
  const bool same_name = session.has_nickname() && equals_ignoring_case(session.name(), nickname);
  if (!same_name && other_nodes_->claim_nickname(session, nickname)) {
    // Its next lines wait for the answer, so they appear under the right name.
    session.connection().pause_reading();
    return;
  }
  complete_nickname_change(session, nickname);
}

void Server::finish_nickname_change(Session& session, std::string_view nickname, bool claimed) {
  session.connection().unpause_reading();
  if (session.room() == nullptr) return;  // left meanwhile
  if (!claimed || is_nickname_taken(session, nickname)) {
    session.reply(protocol::nickname_taken_line(nickname));
    return;
  }
  complete_nickname_change(session, nickname);
}

void Server::complete_nickname_change(Session& session, std::string_view nickname) {
  const std::string old_name = session.name();
  // Same holder (a change of case) keeps its entry; otherwise the old name is freed.
  if (nicknames_.holder(nickname) != session.id()) {
    release_nickname(session);
    nicknames_.take(nickname, session.id());
  }
  session.set_nickname(nickname);
  if (log_.is_enabled(LogLevel::debug)) {
    log_.debug("client #" + std::to_string(session.id()) + " renamed from " + old_name + " to " +
               session.name());
  }
  announce_rename(session, old_name);
  session.reply(protocol::renamed_you_line(session.name()));
}

void Server::announce_rename(const Session& session, std::string_view old_name) {
  Room* room = session.room();
  if (room == nullptr) return;
  room->broadcast(protocol::renamed_line(old_name, session.name()), &session.connection());
  other_nodes_->renamed(session, *room, old_name);
}

void Server::release_nickname(const Session& session) {
  if (!session.has_nickname()) return;
  nicknames_.release(session.name(), session.id());
  other_nodes_->released_nickname(session, session.name());
}

void Server::lose_nickname(Session& session) {
  const std::string old_name = session.name();
  nicknames_.release(old_name, session.id());
  session.drop_nickname(protocol::client_name(other_nodes_->node_id(), session.id()));
  log_.notice("client #" + std::to_string(session.id()) + " lost the nickname " + old_name +
              " to a client of another node (taken while the link was down)");
  announce_rename(session, old_name);
  session.reply(protocol::nickname_taken_line(old_name));
  session.reply(protocol::renamed_you_line(session.name()));
}

Session* Server::find_local(std::string_view target) {
  Session* session = nullptr;
  if (const auto id = parse_client_target(target)) {
    if (id->node.empty() || id->node == other_nodes_->node_id()) session = find_session(id->number);
  } else if (check_nickname(target) == NicknameProblem::none) {
    session = find_session(nicknames_.holder(target));
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
  std::string recipient;
  switch (other_nodes_->whisper(session, target, text, recipient)) {
    case OtherNodes::Whisper::no_such_user:
      session.reply(protocol::no_such_user_line(target));
      return;
    case OtherNodes::Whisper::not_sent:
      session.reply(protocol::whisper_not_sent_line(recipient));
      return;
    case OtherNodes::Whisper::sent:
      session.reply(protocol::whisper_sent_line(recipient));
      count_relayed();
      return;
  }
}

}  // namespace epollchat::chat
