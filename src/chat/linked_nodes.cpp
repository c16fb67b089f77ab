#include "chat/linked_nodes.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "chat/names.hpp"
#include "chat/protocol.hpp"
#include "chat/room.hpp"
#include "chat/server.hpp"
#include "chat/session.hpp"
#include "core/clock.hpp"
#include "core/counted.hpp"

namespace epollchat::chat {
namespace {

// One sender's chat lines go out in one message up to about this size.
constexpr std::size_t kMaxChatBatchBytes = 64 * 1024;

// How many heartbeats apart nickname claims are refreshed: a third of their TTL.
constexpr auto kNicknameRefreshBeats =
    static_cast<std::size_t>(NodeLink::kNicknameTtl / NodeLink::kBeatInterval / 3);

// How long after the link comes up the others' rosters are awaited (see on_link_up). They
// answer at once; this covers a busy node and Redis, and delays nothing but two notices.
constexpr auto kSyncPeriod = std::chrono::milliseconds(500);

// Nickname releases remembered while the link is down; one per client that had a nickname
// and left or renamed meanwhile (about 100 bytes each).
constexpr std::size_t kMaxReleasesWhileDown = 65536;

// Calls `each` with every line of a chat message's text (lines joined by LF, empty ones
// skipped), cut to `max_line`: the sender's node may allow longer lines than this one, and
// nobody here is sent more than a local client could send.
template <typename Each>
void for_each_chat_line(std::string_view text, std::size_t max_line, Each&& each) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty()) each(protocol::cut_to_length(line, max_line));
  }
}

}  // namespace

LinkedNodes::LinkedNodes(Server& server, const NodeLinkFactory& make_link)
    : server_(server),
      sync_timer_(server.loop(), [this] { finish_sync(); }),
      link_(make_link(*this)) {}

LinkedNodes::~LinkedNodes() = default;

std::string LinkedNodes::status() const {
  std::string status;
  switch (link_->state()) {
    case NodeLink::State::connecting:
      status = "; link connecting";
      break;
    case NodeLink::State::up:
      status = "; link up (" + counted(directory_.node_count() + 1, "node", "nodes") + ")";
      break;
    case NodeLink::State::down:
      status = "; link down, retrying";
      break;
  }
  if (link_->dropped() != 0) status += ", " + std::to_string(link_->dropped()) + " dropped";
  return status;
}

void LinkedNodes::add_names_in(std::string_view room, std::vector<std::string_view>& names) const {
  for (const std::string_view name : directory_.names_in(room)) names.push_back(name);
}

void LinkedNodes::add_room_counts(std::map<std::string_view, std::size_t>& counts) const {
  for (const auto& [name, count] : directory_.room_counts()) counts[name] += count;
}

void LinkedNodes::greet(Session& session) {
  if (told_link_lost_) session.reply(protocol::link_lost_line());
}

std::string LinkedNodes::owner_of(std::uint64_t id) const {
  return link_->node_id() + ":" + std::to_string(id);
}

bool LinkedNodes::publish(const NodeMessage& message) {
  if (!link_->is_up()) return false;
  // Chat collected earlier goes first, so the others see this node's order.
  end_of_batch();
  return link_->publish(message);
}

NodeMessage LinkedNodes::message_about(NodeMessageKind kind, const Session& session,
                                       const Room& room) {
  NodeMessage message = node_message(kind);
  message.id = session.id();
  message.room = room.name();
  message.name = session.name();
  return message;
}

void LinkedNodes::start() {
  link_->keep_history(server_.rooms().history_lines());
  // Clients taken back from the previous process are in their rooms already.
  server_.rooms().for_each([this](const Room& room) { follow(room); });
  link_->start();
}

std::string LinkedNodes::history_for(const Session& session, const Room& room,
                                     std::size_t max_bytes) {
  if (room.history().capacity() == 0) return {};
  if (link_->is_catching_up(room.name())) {
    // One wait per client: one that left a room and came back waits for the newer history.
    std::erase_if(awaiting_history_, [&session](const AwaitingHistory& waiting) {
      return waiting.session == session.id();
    });
    awaiting_history_.push_back({session.id(), room.name(), room.history().size()});
    return {};
  }
  std::string history = room.history().replay(max_bytes);
  // Clients were told when the link went down; this only qualifies lines they read.
  if (!history.empty() && !link_->is_up()) history += protocol::history_of_this_server_only_line();
  return history;
}

void LinkedNodes::on_room_history(std::string_view room_name, std::span<const RecordedLine> lines,
                                  bool available) {
  Room* room = server_.rooms().find(room_name);
  const std::size_t said_here = room != nullptr ? room->history().size() : 0;
  if (room != nullptr && available) {
    // What the others recorded before this node received the room, then what its own
    // clients said meanwhile (recorded here; in Redis after the history was read).
    RoomHistory caught_up(room->history().capacity());
    const std::size_t max_line = server_.connection_limits().max_line;
    for (const RecordedLine& line : lines) {
      const auto at = static_cast<RoomHistory::Seconds>(line.milliseconds / 1000);
      if (line.kind == NodeMessageKind::action) {
        std::string said =
            protocol::action_line(line.name, protocol::cut_to_length(line.text, max_line));
        said.pop_back();
        caught_up.record(said, at);
        continue;
      }
      for_each_chat_line(line.text, max_line,
                         [&](std::string_view one) { caught_up.record_chat(line.name, one, at); });
    }
    const RoomHistory& meanwhile = room->history();
    for (std::size_t i = 0; i < meanwhile.size(); ++i) {
      caught_up.record(meanwhile.line(i), meanwhile.time(i));
    }
    room->history() = std::move(caught_up);
  }
  send_waiting_histories(room_name, available, said_here);
}

void LinkedNodes::send_waiting_histories(std::string_view room_name, bool available,
                                         std::size_t said_here) {
  const std::size_t max_bytes = server_.connection_limits().max_backlog / 2;
  std::erase_if(awaiting_history_, [&](const AwaitingHistory& waiting) {
    if (waiting.room != room_name) return false;
    Session* session = server_.find_session(waiting.session);
    // Still there: it has not moved on (or left) meanwhile.
    if (session != nullptr && session->room() != nullptr && session->room()->name() == room_name) {
      // Lines said here after it entered reached it live.
      const std::size_t heard_live = said_here - std::min(said_here, waiting.recorded_before);
      std::string history = session->room()->history().replay(max_bytes, heard_live);
      if (!history.empty() && !available) {
        history += protocol::history_of_this_server_only_line();
      }
      if (!history.empty()) session->reply(history);
    }
    return true;
  });
}

void LinkedNodes::follow(const Room& room) { link_->follow_room(room.name(), room.size() != 0); }

void LinkedNodes::joined(const Session& session, const Room& room) {
  // First: the join waits until this node receives the room.
  follow(room);
  if (room.size() == 1 && link_->is_catching_up(room.name())) {
    // What this node kept of the room from before is stale; the history comes from Redis.
    if (Room* stale = server_.rooms().find(room.name())) stale->history().clear();
  }
  publish(message_about(NodeMessageKind::join, session, room));
}

void LinkedNodes::left(const Session& session, const Room& room, std::string_view reason) {
  NodeMessage message = message_about(NodeMessageKind::leave, session, room);
  message.text = reason;
  publish(message);
  follow(room);
}

void LinkedNodes::renamed(const Session& session, const Room& room, std::string_view old_name) {
  NodeMessage message = message_about(NodeMessageKind::rename, session, room);
  message.old_name = old_name;
  publish(message);
}

void LinkedNodes::said(const Session& session, std::string_view text) {
  if (!link_->is_up()) return;
  OutgoingChat& batch = outgoing_chat_;
  if (batch.sender != session.id() || batch.text.size() > kMaxChatBatchBytes) {
    end_of_batch();
    batch.sender = session.id();
    batch.room = session.room()->name();
    batch.name = session.name();
  } else {
    // LF separates the lines of a batch: a chat line cannot contain one.
    batch.text.push_back('\n');
  }
  batch.text.append(text);
}

void LinkedNodes::acted(const Session& session, std::string_view action) {
  NodeMessage message = message_about(NodeMessageKind::action, session, *session.room());
  message.text = action;
  publish(message);
}

void LinkedNodes::end_of_batch() {
  OutgoingChat& batch = outgoing_chat_;
  if (batch.sender == 0) return;
  NodeMessage chat = node_message(NodeMessageKind::chat);
  chat.id = batch.sender;
  chat.room = batch.room;
  chat.name = batch.name;
  chat.text = batch.text;
  batch.sender = 0;
  if (link_->is_up()) link_->publish(chat);
  batch.text.clear();
}

OtherNodes::Whisper LinkedNodes::whisper(const Session& sender, std::string_view target,
                                         std::string_view text, std::string& recipient) {
  std::optional<std::pair<std::string, std::uint64_t>> remote;
  if (const auto id = parse_client_target(target); id && !id->node.empty()) {
    if (directory_.find(id->node, id->number) != nullptr) {
      remote.emplace(std::string(id->node), id->number);
    }
  } else if (check_nickname(target) == NicknameProblem::none) {
    remote = directory_.find_by_name(target);
  }
  if (!remote) return Whisper::no_such_user;
  NodeMessage whispered = node_message(NodeMessageKind::whisper);
  whispered.id = sender.id();
  whispered.name = sender.name();
  whispered.target_node = remote->first;
  whispered.target_id = remote->second;
  whispered.text = text;
  recipient = directory_.find(remote->first, remote->second)->name;
  return publish(whispered) ? Whisper::sent : Whisper::not_sent;
}

bool LinkedNodes::claim_nickname(const Session& session, std::string_view nickname) {
  const std::uint64_t request =
      link_->claim_nickname(lower_case_ascii(nickname), owner_of(session.id()));
  if (request == 0) return false;
  pending_claims_.emplace(request, PendingClaim{session.id(), std::string(nickname)});
  return true;
}

std::optional<std::string> LinkedNodes::nickname_in_claim(std::uint64_t session_id) const {
  for (const auto& [request, claim] : pending_claims_) {
    if (claim.session == session_id && !claim.refresh) return claim.nickname;
  }
  return std::nullopt;
}

void LinkedNodes::released_nickname(const Session& session, std::string_view nickname) {
  std::string key = lower_case_ascii(nickname);
  if (link_->is_up()) {
    link_->release_nickname(key, owner_of(session.id()));
  } else if (releases_while_down_.size() < kMaxReleasesWhileDown) {
    // The others still hold the claim: it is released as soon as the link is back, rather
    // than when it expires a minute later.
    releases_while_down_.emplace_back(std::move(key), owner_of(session.id()));
  }
}

void LinkedNodes::on_nickname_claim(std::uint64_t request, bool claimed) {
  const auto found = pending_claims_.find(request);
  if (found == pending_claims_.end()) return;
  const PendingClaim claim = std::move(found->second);
  pending_claims_.erase(found);
  resolve_claim(claim, claimed);
}

void LinkedNodes::resolve_claim(const PendingClaim& claim, bool claimed) {
  Session* session = server_.find_session(claim.session);
  if (claim.refresh) {
    if (!claimed && session != nullptr && session->room() != nullptr && session->has_nickname() &&
        equals_ignoring_case(session->name(), claim.nickname)) {
      server_.lose_nickname(*session);
    }
    return;
  }
  if (claimed && (session == nullptr || session->room() == nullptr)) {
    // Nobody here wants it any more.
    link_->release_nickname(lower_case_ascii(claim.nickname), owner_of(claim.session));
  }
  if (session != nullptr) server_.finish_nickname_change(*session, claim.nickname, claimed);
}

void LinkedNodes::reclaim_nicknames() {
  // Refreshes this node's claims and, after an outage, takes them again. A name another
  // node's client took meanwhile stays with that one: the client here gets its
  // "Client #..." name back (resolve_claim).
  server_.nicknames().for_each([this](std::string_view key, std::uint64_t id) {
    const Session* session = server_.find_session(id);
    if (session == nullptr) return;
    const std::uint64_t request = link_->claim_nickname(key, owner_of(id));
    if (request != 0) pending_claims_.emplace(request, PendingClaim{id, session->name(), true});
  });
}

void LinkedNodes::publish_roster(std::string_view for_instance) {
  std::string entries;
  for (const auto& [id, session] : server_.sessions()) {
    if (const Room* room = session->room()) {
      append_roster_entry(entries, RosterEntry{id, room->name(), session->name()});
    }
  }
  NodeMessage roster = node_message(NodeMessageKind::roster);
  roster.target_instance = for_instance;
  roster.text = entries;
  publish(roster);
}

void LinkedNodes::on_link_up() {
  // Until the other nodes' rosters are in, this node does not know who else is in a room:
  // for a moment nobody is told they are alone, and "Link restored." waits until then.
  syncing_ = true;
  sync_timer_.arm(std::chrono::duration_cast<std::chrono::microseconds>(kSyncPeriod));
  // The others learn this node's clients (with notices for what they missed), and this
  // node theirs (without: its clients were told the link was down).
  publish_roster(link_->instance());
  publish(node_message(NodeMessageKind::sync));
  // Names let go of during the outage are freed first, then this node's names taken again.
  for (const auto& [key, owner] : std::exchange(releases_while_down_, {})) {
    link_->release_nickname(key, owner);
  }
  reclaim_nicknames();
  server_.log().debug("link up: told the other nodes of this node's " +
                      counted(server_.sessions().size(), "client", "clients") +
                      ", waiting for theirs");
  server_.note_status_change();
}

void LinkedNodes::on_presence_lost() {
  // A roster addressed to nobody in particular: every other node compares it with what it
  // knows and announces the differences, so ghosts leave and missed arrivals appear.
  publish_roster(link_->instance());
}

void LinkedNodes::finish_sync() {
  syncing_ = false;
  if (link_->is_up()) {
    server_.log().debug(
        "link resynced: " + counted(directory_.node_count(), "other node", "other nodes") +
        " with " + counted(directory_.client_count(), "client", "clients"));
  }
  if (told_link_lost_ && link_->is_up()) {
    told_link_lost_ = false;
    server_.rooms().broadcast_everywhere(protocol::link_restored_line());
  }
}

void LinkedNodes::on_link_down() {
  server_.log().debug(
      "link down: forgetting " + counted(directory_.node_count(), "other node", "other nodes") +
      " with " + counted(directory_.client_count(), "client", "clients") + " until it is back");
  syncing_ = false;
  sync_timer_.disarm();
  outgoing_chat_.sender = 0;
  outgoing_chat_.text.clear();
  // Rooms catching up will not: their clients read what this node has.
  std::vector<std::string> rooms;
  for (const AwaitingHistory& waiting : awaiting_history_) rooms.push_back(waiting.room);
  for (const std::string& name : rooms) {
    const Room* room = server_.rooms().find(name);
    send_waiting_histories(name, false, room != nullptr ? room->history().size() : 0);
  }
  for (const auto& [node, state] : directory_.nodes()) {
    if (forgotten_quietly_.size() < RemoteDirectory::kMaxNodes) forgotten_quietly_.emplace(node);
  }
  directory_.clear();
  // Claims in flight get no answer now: their sessions take the name on this node's word.
  const auto pending = std::exchange(pending_claims_, {});
  for (const auto& [request, claim] : pending) resolve_claim(claim, true);
  if (!told_link_lost_ && !server_.is_shutting_down()) {
    told_link_lost_ = true;
    server_.rooms().broadcast_everywhere(protocol::link_lost_line());
  }
  server_.note_status_change();
}

void LinkedNodes::on_link_beat() {
  announce_departures(directory_.expire(coarse_now() - NodeLink::kNodeTtl));
  if (++beats_ % kNicknameRefreshBeats == 0) reclaim_nicknames();
}

void LinkedNodes::remote_joined(std::string_view room_name, std::string_view name) {
  if (Room* room = server_.rooms().find(room_name)) {
    room->broadcast(protocol::joined_line(name, server_.population(*room)), nullptr);
  }
}

void LinkedNodes::remote_left(std::string_view room_name, std::string_view name,
                              std::string_view reason, std::size_t still_leaving) {
  if (Room* room = server_.rooms().find(room_name)) {
    const std::size_t online = server_.population(*room) + still_leaving;
    room->broadcast(protocol::left_line(name, online, reason), nullptr);
  }
}

void LinkedNodes::announce_departures(const std::vector<RemoteDirectory::Departure>& departed) {
  if (departed.empty()) return;
  // They are gone from the directory already; each notice counts those not yet announced,
  // so the counts fall one by one as if they had left one after another.
  std::map<std::string_view, std::size_t> still_leaving;
  for (const auto& gone : departed) ++still_leaving[gone.client.room];
  for (const auto& gone : departed) {
    const std::size_t after_this = --still_leaving[gone.client.room];
    remote_left(gone.client.room, gone.client.name, {}, after_this);
  }
  server_.note_status_change();
}

void LinkedNodes::apply_roster(const NodeMessage& message) {
  // Differences are news, except in the rosters that answer this node's own sync and those
  // of nodes it forgot without a word when its link went down: its clients were told the
  // link was down and back, not that those people left.
  const auto known = directory_.nodes().find(message.node);
  const bool same_instance =
      known != directory_.nodes().end() && known->second.instance == message.instance;
  bool forgotten_quietly = false;
  if (const auto forgotten = forgotten_quietly_.find(message.node);
      known == directory_.nodes().end() && forgotten != forgotten_quietly_.end()) {
    forgotten_quietly_.erase(forgotten);
    forgotten_quietly = true;
  }
  // While syncing, a node not known yet is part of the state this node's clients are
  // about to be told is restored, not news.
  const bool unknown_while_syncing = syncing_ && known == directory_.nodes().end();
  const bool announce =
      message.target_instance != link_->instance() && !forgotten_quietly && !unknown_while_syncing;
  if (known == directory_.nodes().end()) {
    server_.log().debug("node " + std::string(message.node) + " joined the link");
  } else if (!same_instance) {
    server_.log().debug("node " + std::string(message.node) + " restarted");
  }
  std::vector<RemoteDirectory::Departure> departed = directory_.remove_node(message.node);
  std::map<std::uint64_t, RemoteClient> before;
  if (same_instance) {
    for (auto& gone : departed) before.emplace(gone.id, std::move(gone.client));
  } else if (announce) {
    // The node restarted: its former clients are gone.
    announce_departures(departed);
  }
  directory_.heard_from(message.node, message.instance, coarse_now());
  std::vector<std::pair<std::string, std::string>> arrivals;
  std::vector<std::pair<std::string, std::string>> moves_out;
  for_each_roster_entry(message.text, [&](const RosterEntry& entry) {
    directory_.set(message.node, entry.id, entry.room, entry.name);
    const auto old = before.find(entry.id);
    if (old != before.end()) {
      const bool moved = old->second.room != entry.room;
      if (moved) moves_out.emplace_back(std::move(old->second.room), std::move(old->second.name));
      before.erase(old);
      if (!moved) return;
    }
    arrivals.emplace_back(std::string(entry.room), std::string(entry.name));
  });
  server_.note_status_change();
  if (!announce) return;
  for (const auto& [id, client] : before) remote_left(client.room, client.name, {});
  for (const auto& [room, name] : moves_out) remote_left(room, name, {});
  for (const auto& [room, name] : arrivals) remote_joined(room, name);
}

void LinkedNodes::deliver_remote_chat(const NodeMessage& message) {
  // A sender not yet known (its join was missed) is evidently in the room.
  const RemoteClient* sender = directory_.set(message.node, message.id, message.room, message.name);
  Room* room = server_.rooms().find(message.room);
  if (room == nullptr || room->size() == 0) return;
  // Tells this sender's batch from others'; the message itself will do if the directory
  // was full.
  const void* origin = sender != nullptr ? static_cast<const void*>(sender) : &message;
  std::uint64_t delivered = 0;
  for_each_chat_line(message.text, server_.connection_limits().max_line,
                     [&](std::string_view line) {
                       room->stage_remote_chat_line(origin, message.name, line);
                       ++delivered;
                     });
  room->flush_staged();
  server_.count_relayed(delivered);
}

void LinkedNodes::on_node_message(const NodeMessage& message) {
  if (server_.is_shutting_down()) return;
  switch (message.kind) {
    case NodeMessageKind::bye:
      server_.log().debug("node " + std::string(message.node) + " left the link");
      announce_departures(directory_.remove_node(message.node));
      return;
    case NodeMessageKind::roster:
      apply_roster(message);
      return;
    default:
      break;
  }
  if (!directory_.nodes().contains(message.node)) {
    server_.log().debug("node " + std::string(message.node) + " joined the link");
  }
  announce_departures(directory_.heard_from(message.node, message.instance, coarse_now()));
  switch (message.kind) {
    case NodeMessageKind::join: {
      const RemoteClient* known = directory_.find(message.node, message.id);
      if (known != nullptr && known->room == message.room) return;
      directory_.set(message.node, message.id, message.room, message.name);
      remote_joined(message.room, message.name);
      server_.note_status_change();
      return;
    }
    case NodeMessageKind::leave:
      if (const auto removed = directory_.remove(message.node, message.id)) {
        remote_left(removed->room, message.name,
                    protocol::cut_to_length(message.text, server_.connection_limits().max_line));
        server_.note_status_change();
      }
      return;
    case NodeMessageKind::rename:
      directory_.set(message.node, message.id, message.room, message.name);
      if (Room* room = server_.rooms().find(message.room)) {
        room->broadcast(protocol::renamed_line(message.old_name, message.name), nullptr);
      }
      return;
    case NodeMessageKind::chat:
      deliver_remote_chat(message);
      return;
    case NodeMessageKind::action:
      directory_.set(message.node, message.id, message.room, message.name);
      // As for chat, only where someone here hears it: the lobby is open even when empty.
      if (Room* room = server_.rooms().find(message.room); room != nullptr && room->size() != 0) {
        room->broadcast_action(
            protocol::action_line(
                message.name,
                protocol::cut_to_length(message.text, server_.connection_limits().max_line)),
            nullptr);
        server_.count_relayed();
      }
      return;
    case NodeMessageKind::whisper:
      if (message.target_node != link_->node_id()) return;
      if (Session* recipient = server_.find_session(message.target_id);
          recipient != nullptr && recipient->room() != nullptr) {
        recipient->reply(protocol::whisper_line(
            message.name,
            protocol::cut_to_length(message.text, server_.connection_limits().max_line)));
        server_.count_relayed();
      }
      return;
    case NodeMessageKind::sync:
      publish_roster(message.instance);
      return;
    case NodeMessageKind::beat:
    case NodeMessageKind::roster:
    case NodeMessageKind::bye:
    // Read by the link (on_room_history).
    case NodeMessageKind::history:
      return;
  }
}

}  // namespace epollchat::chat
