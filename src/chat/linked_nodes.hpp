// LinkedNodes: the other nodes as seen through a NodeLink — the directory of their clients,
// what this node publishes about its own, and what it makes of what they publish.
//
// Owns: the link, the directory of remote clients, nickname claims awaiting an answer,
// nickname releases made while the link was down, the chat lines of the current sender not
// yet published, and the state of the resynchronisation after the link comes up.
// Never: keeps a Session pointer (sessions are looked up by id when an answer comes); sends
// a local client anything but notices about the others and their whispers.
// Lifetime: owned by the Server (see OtherNodes); it is the link's handler and outlives it.
//
// A node receives the chat of the rooms it has members in, and presence of every room (see
// NodeLink::follow_room). A room's history is kept where every node reads it: a node that
// begins to receive a room again catches up with it (NodeLink::keep_history), and clients
// entering meanwhile read the history once it is in.
//
// Remote clients are shown exactly like local ones: their lines are staged into the local
// room, and counts, /who and /rooms add the directory's figures. What a local client says in
// a room is published once per input batch (all its chat lines of a read in one message), so
// the link costs one PUBLISH per batch, not per line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/node_link.hpp"
#include "chat/node_message.hpp"
#include "chat/other_nodes.hpp"
#include "chat/remote_directory.hpp"
#include "core/timer.hpp"

namespace epollchat::chat {

class Server;

using NodeLinkFactory = std::function<std::unique_ptr<NodeLink>(NodeLinkHandler& handler)>;

class LinkedNodes final : public OtherNodes, public NodeLinkHandler {
 public:
  // `make_link` makes the link with this as its handler.
  LinkedNodes(Server& server, const NodeLinkFactory& make_link);
  ~LinkedNodes() override;

  [[nodiscard]] const std::string& node_id() const noexcept override { return link_->node_id(); }
  [[nodiscard]] const std::string& instance() const noexcept override { return link_->instance(); }
  [[nodiscard]] std::string status() const override;
  [[nodiscard]] bool are_reachable() const noexcept override { return link_->is_up(); }
  [[nodiscard]] bool are_catching_up() const noexcept override {
    return link_->is_up() && syncing_;
  }
  [[nodiscard]] std::size_t members_in(std::string_view room) const override {
    return directory_.count(room);
  }
  void add_names_in(std::string_view room, std::vector<std::string_view>& names) const override;
  void add_room_counts(std::map<std::string_view, std::size_t>& counts) const override;
  [[nodiscard]] bool hold_nickname(std::string_view nickname) const override {
    return directory_.find_by_name(nickname).has_value();
  }

  [[nodiscard]] std::optional<std::string> nickname_in_claim(
      std::uint64_t session_id) const override;

  [[nodiscard]] std::string history_for(const Session& session, const Room& room,
                                        std::size_t max_bytes) override;
  void keep_history(std::size_t lines) override { link_->keep_history(lines); }
  void start() override;
  void say_goodbye() override { link_->say_goodbye(); }
  void greet(Session& session) override;

  void entering(std::string_view room) override { link_->follow_room(room, true); }
  void joined(const Session& session, const Room& room) override;
  void left(const Session& session, const Room& room, std::string_view reason) override;
  void renamed(const Session& session, const Room& room, std::string_view old_name) override;
  void said(const Session& session, std::string_view text) override;
  void acted(const Session& session, std::string_view action) override;
  void end_of_batch() override;
  Whisper whisper(const Session& sender, std::string_view target, std::string_view text,
                  std::string& recipient) override;
  bool claim_nickname(const Session& session, std::string_view nickname) override;
  void released_nickname(const Session& session, std::string_view nickname) override;

  void on_link_up() override;
  void on_link_down() override;
  void on_node_message(const NodeMessage& message) override;
  void on_room_history(std::string_view room, std::span<const RecordedLine> lines,
                       bool available) override;
  void on_link_beat() override;
  void on_nickname_claim(std::uint64_t request, bool claimed) override;
  void on_presence_lost() override;

 private:
  struct PendingClaim {
    std::uint64_t session;
    std::string nickname;
    // A refresh of a name the session holds (else /nick, with the session paused).
    bool refresh = false;
  };
  // What said() collected: consecutive lines of one sender.
  struct OutgoingChat {
    std::uint64_t sender = 0;
    std::string room;
    std::string name;
    std::string text;
  };

  // Follows the room's channel while this node has members there.
  void follow(const Room& room);
  // False if the message was not sent (link down, or over its limit).
  bool publish(const NodeMessage& message);
  // A message of `kind` about `session` in `room` (id, room and display name filled in).
  [[nodiscard]] static NodeMessage message_about(NodeMessageKind kind, const Session& session,
                                                 const Room& room);
  [[nodiscard]] std::string owner_of(std::uint64_t id) const;
  // The others answered a claim (or, with `claimed` true, the link went down before they
  // did and this node decides alone).
  void resolve_claim(const PendingClaim& claim, bool claimed);
  void reclaim_nicknames();
  void publish_roster(std::string_view for_instance);
  void apply_roster(const NodeMessage& message);
  void deliver_remote_chat(const NodeMessage& message);
  void announce_departures(const std::vector<RemoteDirectory::Departure>& departed);
  void remote_joined(std::string_view room, std::string_view name);
  // `still_leaving`: others leaving the room with it, already gone from the directory.
  void remote_left(std::string_view room, std::string_view name, std::string_view reason,
                   std::size_t still_leaving = 0);
  void finish_sync();
  // Sends the clients waiting for `room`'s history what there is (with `available` false,
  // saying that the other servers' lines may be missing); the room's last `said_here` lines
  // were said by its clients while it caught up.
  void send_waiting_histories(std::string_view room, bool available, std::size_t said_here);

  Server& server_;
  RemoteDirectory directory_;
  std::unordered_map<std::uint64_t, PendingClaim> pending_claims_;
  // Nicknames released while the link was down ({key, owner}), released in Redis when it is
  // back; bounded (beyond it, their claims simply expire).
  std::vector<std::pair<std::string, std::string>> releases_while_down_;
  OutgoingChat outgoing_chat_;
  // A client that entered a room while it was catching up: it reads the room's history when
  // it is in, with the lines said here before it entered (it heard the later ones live).
  struct AwaitingHistory {
    std::uint64_t session;
    std::string room;
    // Lines the room had recorded while catching up when the client entered.
    std::size_t recorded_before;
  };
  std::vector<AwaitingHistory> awaiting_history_;
  bool syncing_ = false;
  std::size_t beats_ = 0;
  // Nodes dropped from the directory without leave notices when the link went down.
  std::set<std::string, std::less<>> forgotten_quietly_;
  bool told_link_lost_ = false;
  Timer sync_timer_;
  // Last: destroyed first, so it never calls a handler that is half gone.
  std::unique_ptr<NodeLink> link_;
};

}  // namespace epollchat::chat
