// Server: the chat service — listeners, sessions, the rooms they share and, with `redis`
// set, the link that makes several nodes one chat.
//
// Owns: the listening sockets, every session, the rooms (lobby always; others while someone
// is in them) and the chunk pool behind them, the registry of nicknames (case-insensitively
// unique; a name is freed when its owner leaves), and with a link: the ClusterLink and the
// directory of clients on other nodes.
// Never: exits, blocks, or lets one client's failure reach another or the loop; talks to
// systemd (main does that, from the status it reads here).
//
// Remote clients are shown exactly like local ones: their lines are staged into the local
// room, and counts, /who and /rooms add the directory's figures. What a local client does
// in a room is published once per input batch (all its chat lines of a read in one message),
// so the link costs one PUBLISH per batch, not per line.
// Lifetime: sessions whose connections closed during a turn are destroyed in that turn's
// deferred phase, after every event of the batch was dispatched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/cluster_directory.hpp"
#include "chat/flow_control.hpp"
#include "chat/node_link.hpp"
#include "chat/room.hpp"
#include "chat/server_limits.hpp"
#include "chat/session.hpp"
#include "core/chunk.hpp"
#include "core/chunk_writer.hpp"
#include "core/connection.hpp"
#include "core/event_loop.hpp"
#include "core/lingering_close.hpp"
#include "core/listener.hpp"
#include "core/log.hpp"
#include "core/repeated_log.hpp"
#include "core/socket.hpp"
#include "core/timer.hpp"

namespace epollchat::chat {

class Server final : public ListenerHandler, public DeferredTask, public NodeLinkHandler {
 public:
  Server(EventLoop& loop, const Log& log, const ServerLimits& limits);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves a listening socket; throws std::system_error.
  void add_listener(UniqueFd listening);
  [[nodiscard]] std::vector<SocketAddress> addresses() const;

  // The limits a reload may change while clients stay connected. New limits apply to the
  // next line read and the next output queued.
  void apply_limits(const ServerLimits& limits);

  // Stops accepting, tells every client, and closes each once its output is out.
  void begin_shutdown();
  [[nodiscard]] bool has_sessions() const noexcept { return !sessions_.empty(); }
  // Every session, by id (for status, tests and the fuzzer's checks).
  [[nodiscard]] const SessionMap& sessions() const noexcept { return sessions_; }

  // Links this node to the others (before any client connects); the link's handler must be
  // this server. Without one, the server is a single node.
  void attach_link(std::unique_ptr<NodeLink> link);
  // Starts the link to other nodes, if there is one.
  void start_link();
  // "; link up (3 nodes)" and the like for STATUS=, or "" without a link.
  [[nodiscard]] std::string link_status() const;

  [[nodiscard]] std::size_t online() const noexcept { return present_; }
  [[nodiscard]] std::uint64_t relayed() const noexcept { return relayed_; }
  // Called once when online() or relayed() first changes after take_status_change().
  void on_status_change(std::function<void()> callback) {
    status_changed_callback_ = std::move(callback);
  }
  // Re-arms the status-change callback; returns whether anything changed.
  bool take_status_change() noexcept { return std::exchange(status_changed_, false); }

  // For sessions.
  [[nodiscard]] EventLoop& loop() noexcept { return loop_; }
  [[nodiscard]] Room& lobby() noexcept { return *lobby_; }
  // Local members plus, with the link up, members on other nodes.
  [[nodiscard]] std::size_t population(const Room& room) const;
  // Whether a line said in `room` would reach nobody ("You are alone in the chat room.").
  [[nodiscard]] bool is_alone(const Room& room) const;
  [[nodiscard]] bool has_link_up() const noexcept { return link_ && link_->is_up(); }
  [[nodiscard]] FlowControl& flow() noexcept { return flow_; }
  // Moves the session to the (valid) room `name` with the notices and the reply.
  void move(Session& session, std::string_view name);
  // The /rooms reply.
  [[nodiscard]] std::string rooms_lines() const;
  // The session said (chat) or did (/me) something in its room: tell the other nodes.
  void publish_chat(const Session& session, std::string_view text);
  void publish_action(const Session& session, std::string_view action);
  // Sends what publish_chat() collected; at the end of the sender's input batch.
  void flush_published_chat();
  [[nodiscard]] const ConnectionLimits& connection_limits() const noexcept { return limits_; }
  void count_relayed() noexcept {
    ++relayed_;
    note_status_change();
  }
  // The session's peer finished sending: it leaves the room (others are told, with
  // `reason` if not empty) but keeps receiving what is already queued for it. Its nickname
  // is free from then on.
  void leave(Session& session, std::string_view reason = {});
  // /quit: leaves with `reason`, then closes once its output is out.
  void quit(Session& session, std::string_view reason);
  // /nick with a valid nickname other than the session's: takes it if nobody here or on
  // another node holds it, and tells the room; else replies that it is taken. With the link
  // up, Redis decides; the session reads no further line until it has.
  void change_nickname(Session& session, std::string_view nickname);
  // /msg: whispers `text` to `target` (a nickname in any case, "#<id>" or "#<node>:<id>")
  // on any node, and replies to the sender.
  void whisper(Session& session, std::string_view target, std::string_view text);
  // The /who reply: every member's name in the session's room, local ones in join order.
  [[nodiscard]] std::string who_lines(const Session& session) const;
  // The session's peer finished sending (EOF): it leaves its room and only flushes.
  void peer_finished(Session& session);
  // The session's connection closed; it is destroyed at the end of the turn.
  void retire(Session& session, CloseReason reason);

  void on_link_up() override;
  void on_link_down() override;
  void on_node_message(const NodeMessage& message) override;
  void on_link_beat() override;
  void on_nickname_claim(std::uint64_t request, bool claimed) override;
  void on_presence_lost() override;

  void on_accepted(UniqueFd connection) override;
  void on_accept_error(int error) override;
  void on_refused(int connection) override;
  void run_deferred() override;

 private:
  struct PendingClaim {
    std::uint64_t session;
    std::string nickname;
    // A refresh of a name the session holds (else /nick, with the session paused).
    bool refresh = false;
  };
  // What publish_chat() collected: consecutive lines of one sender.
  struct OutgoingChat {
    std::uint64_t sender = 0;
    std::string room;
    std::string name;
    std::string text;
  };

  void refuse_full(UniqueFd connection);
  Room& room_named(std::string_view name);
  void drop_room_if_empty(Room& room);
  void enter(Session& session, Room& room);
  void leave_room(Session& session, std::string_view reason);
  // Registers the nickname locally, tells the room and the other nodes.
  void complete_nickname_change(Session& session, std::string_view nickname);
  // Redis answered a claim (or, with `claimed` true, the link went down before it did and
  // this node decides alone).
  void resolve_claim(const PendingClaim& claim, bool claimed);
  // "*** OLD is now known as NEW" to the session's room and the other nodes.
  void announce_rename(const Session& session, std::string_view old_name);
  bool nickname_taken(const Session& session, std::string_view nickname) const;
  void release_nickname(const Session& session);
  [[nodiscard]] Session* find_session(std::uint64_t id);
  [[nodiscard]] Session* find_local(std::string_view target);
  [[nodiscard]] std::string owner_of(std::uint64_t id) const;
  // False if the message was not sent (no link, link down, or over its limit).
  bool publish(const NodeMessage& message);
  // A message of `kind` about `session` in `room` (id, room and display name filled in).
  [[nodiscard]] static NodeMessage message_about(NodeMessageKind kind, const Session& session,
                                                 const Room& room);
  void deliver_remote_chat(const NodeMessage& message);
  void publish_roster(std::string_view for_instance);
  void apply_roster(const NodeMessage& message);
  void announce_departures(const std::vector<ClusterDirectory::Departure>& departed);
  void broadcast_everywhere(std::string_view line);
  void remote_joined(std::string_view room, std::string_view name);
  // `still_leaving`: others leaving the room with it, already gone from the directory.
  void remote_left(std::string_view room, std::string_view name, std::string_view reason,
                   std::size_t still_leaving = 0);
  void finish_sync();
  [[nodiscard]] Room* find_room(std::string_view name);
  void reclaim_nicknames();
  // Another node's client holds the session's nickname (taken while the link was down).
  void lose_nickname(Session& session);
  void note_status_change() {
    if (!status_changed_) {
      status_changed_ = true;
      if (status_changed_callback_) status_changed_callback_();
    }
  }

  EventLoop& loop_;
  const Log& log_;
  ConnectionLimits limits_;
  std::size_t max_clients_;
  // Declared before the room and the sessions: queued chunks go back to the pool when
  // the sessions are destroyed.
  ChunkPool pool_;
  ChunkWriter writer_{pool_};
  // By lower-case name; `lobby_` is always there.
  std::map<std::string, std::unique_ptr<Room>, std::less<>> rooms_;
  Room* lobby_ = nullptr;
  std::vector<std::unique_ptr<Listener>> listeners_;
  // Refused connections, until their peers have read the notice and closed.
  LingeringClose refusals_;
  SessionMap sessions_;
  FlowControl flow_;
  // Nicknames in lower case -> their holder. Only named members have an entry, so an idle
  // client without a nickname costs nothing here.
  std::unordered_map<std::string, Session*> nicknames_;
  std::vector<std::uint64_t> retired_;
  RepeatedLog cut_off_log_;
  RepeatedLog accept_error_log_;
  Timer sync_timer_;
  std::string node_id_;  // empty without a link
  std::unique_ptr<NodeLink> link_;
  ClusterDirectory directory_;
  std::unordered_map<std::uint64_t, PendingClaim> pending_claims_;
  // Nicknames released while the link was down ({key, owner}), released in Redis when it is
  // back; bounded (beyond it, their claims simply expire).
  std::vector<std::pair<std::string, std::string>> releases_while_down_;
  OutgoingChat outgoing_chat_;
  bool syncing_ = false;
  std::size_t beats_ = 0;
  // Nodes dropped from the directory without leave notices when the link went down.
  std::set<std::string, std::less<>> forgotten_quietly_;
  bool told_link_lost_ = false;
  std::size_t present_ = 0;  // sessions in a room (connected and not yet left)
  std::uint64_t next_id_ = 1;
  std::uint64_t relayed_ = 0;
  bool shutting_down_ = false;
  bool full_ = false;  // a "server full" refusal was logged and capacity not seen since
  bool status_changed_ = false;
  std::function<void()> status_changed_callback_;
};

}  // namespace epollchat::chat
