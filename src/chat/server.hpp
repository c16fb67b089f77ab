// Server: the chat service — listeners, sessions, and the parts they share: the rooms
// (RoomRegistry), the nicknames (NicknameRegistry), flow control (FlowControl), and the
// other nodes of the chat (OtherNodes: a LoneNode, or LinkedNodes over a NodeLink).
//
// Owns: the listening sockets, every session, and those parts.
// Never: exits, blocks, or lets one client's failure reach another or the loop; talks to
// systemd (the daemon does that, from the status it reads here).
// Lifetime: sessions whose connections closed during a turn are destroyed in that turn's
// deferred phase, after every event of the batch was dispatched.
//
// Sessions call the server for what involves others: moving between rooms, listing them,
// /nick, /msg, leaving. The server does the local part and tells the other nodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/flow_control.hpp"
#include "chat/linked_nodes.hpp"
#include "chat/nickname_registry.hpp"
#include "chat/other_nodes.hpp"
#include "chat/room.hpp"
#include "chat/room_registry.hpp"
#include "chat/saved_state.hpp"
#include "chat/server_limits.hpp"
#include "chat/session.hpp"
#include "chat/socket_keeper.hpp"
#include "core/address_range.hpp"
#include "core/connection.hpp"
#include "core/event_loop.hpp"
#include "core/keyed_repeated_log.hpp"
#include "core/lingering_close.hpp"
#include "core/listener.hpp"
#include "core/log.hpp"
#include "core/repeated_log.hpp"
#include "core/socket.hpp"
#include "core/tls_acceptor.hpp"
#include "core/tls_context.hpp"

namespace epollchat::chat {

class Server final : public ListenerHandler, public TlsAcceptorHandler, public DeferredTask {
 public:
  Server(EventLoop& loop, const Log& log, const ServerLimits& limits);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves a listening socket; throws std::system_error.
  void add_listener(UniqueFd listening);
  [[nodiscard]] std::vector<SocketAddress> addresses() const;
  // Serves a listening socket whose clients speak TLS, with the context set_tls_context()
  // gave (needed before the first client arrives); throws std::system_error.
  void add_tls_listener(UniqueFd listening);
  [[nodiscard]] std::vector<SocketAddress> tls_addresses() const;
  // The certificate and key for TLS handshakes from now on (a reload); connections already
  // encrypted keep theirs.
  void set_tls_context(TlsContext context) { tls_acceptor_.set_context(std::move(context)); }
  [[nodiscard]] std::string tls_certificate_summary() const {
    return tls_acceptor_.context().certificate_summary();
  }
  // Connected clients whose connection is encrypted, and TLS handshakes in progress.
  [[nodiscard]] std::size_t encrypted_clients() const noexcept { return encrypted_; }
  [[nodiscard]] std::size_t tls_handshakes() const noexcept { return tls_acceptor_.handshakes(); }

  // The limits a reload may change while clients stay connected. New limits apply to the
  // next line read and the next output queued, new allow lists to the next connection.
  void apply_limits(const ServerLimits& limits);

  // Stops accepting, tells every client, and closes each once its output is out.
  void begin_shutdown();
  [[nodiscard]] bool is_shutting_down() const noexcept { return shutting_down_; }
  [[nodiscard]] bool has_sessions() const noexcept { return !sessions_.empty(); }
  // Every session, by id (for status, tests and the fuzzer's checks).
  [[nodiscard]] const SessionMap& sessions() const noexcept { return sessions_; }
  [[nodiscard]] Session* find_session(std::uint64_t id);

  // Links this node to the others (before any client connects): `make_link` makes the link
  // for the handler it is given. Without it, the server is a node on its own.
  void link_to_other_nodes(const NodeLinkFactory& make_link);
  // Starts the link to other nodes, if there is one.
  void start_link() { other_nodes_->start(); }
  // "; link up (3 nodes)" and the like for STATUS=, or "" without a link.
  [[nodiscard]] std::string link_status() const { return other_nodes_->status(); }

  [[nodiscard]] std::size_t online() const noexcept { return present_; }
  [[nodiscard]] std::uint64_t relayed() const noexcept { return relayed_; }
  // Called once when online() or relayed() first changes after take_status_change().
  void on_status_change(std::function<void()> callback) {
    status_changed_callback_ = std::move(callback);
  }
  // Re-arms the status-change callback; returns whether anything changed.
  bool take_status_change() noexcept { return std::exchange(status_changed_, false); }
  void note_status_change() {
    if (!status_changed_) {
      status_changed_ = true;
      if (status_changed_callback_) status_changed_callback_();
    }
  }
  void count_relayed(std::uint64_t lines = 1) {
    relayed_ += lines;
    note_status_change();
  }

  // The parts, for sessions and for one another.
  [[nodiscard]] EventLoop& loop() noexcept { return loop_; }
  [[nodiscard]] const Log& log() const noexcept { return log_; }
  [[nodiscard]] RoomRegistry& rooms() noexcept { return rooms_; }
  [[nodiscard]] const NicknameRegistry& nicknames() const noexcept { return nicknames_; }
  [[nodiscard]] FlowControl& flow() noexcept { return flow_; }
  [[nodiscard]] OtherNodes& other_nodes() noexcept { return *other_nodes_; }
  [[nodiscard]] const ConnectionLimits& connection_limits() const noexcept { return limits_; }

  // Rooms (server_rooms.cpp).
  // Local members plus members on other nodes.
  [[nodiscard]] std::size_t population(const Room& room) const;
  // Whether a line said in `room` would reach nobody ("You are alone in the chat room.").
  [[nodiscard]] bool is_alone(const Room& room) const;
  // Moves the session to the (valid) room `name` with the notices and the reply.
  void move(Session& session, std::string_view name);
  // The /rooms reply.
  [[nodiscard]] std::string rooms_lines() const;
  // The /who reply: every member's name in the session's room, local ones in join order.
  [[nodiscard]] std::string who_lines(const Session& session) const;
  // Nicknames and addressing (server_nicknames.cpp).
  // /nick with a valid nickname other than the session's: takes it if nobody here or on
  // another node holds it, and tells the room; else replies that it is taken. With the link
  // up, the other nodes decide; the session reads no further line until they have.
  void change_nickname(Session& session, std::string_view nickname);
  // The other nodes answered the session's claim of `nickname` (`claimed` true also when
  // they could no longer be asked).
  void finish_nickname_change(Session& session, std::string_view nickname, bool claimed);
  // A client of another node holds the session's nickname (taken while the link was down).
  void lose_nickname(Session& session);
  // /msg: whispers `text` to `target` (a nickname in any case, "#<id>" or "#<node>:<id>")
  // on any node, and replies to the sender.
  void whisper(Session& session, std::string_view target, std::string_view text);

  // Restarts that keep every client connected (server_restart.cpp).
  // The sessions a planned restart hands on, in room and join order: every session in a
  // room, except encrypted ones (TLS state cannot leave the process). Staged lines are
  // queued first, so that each unsent output is complete.
  [[nodiscard]] SavedState save_sessions();
  // In a fresh server, before any client: the sessions of `state`, each on the socket
  // `take_socket(id)` gives (none: that client is gone, and its room is told it left).
  // Nobody sees a join; each restored client is told it is still there. Returns how many
  // sessions were restored.
  std::size_t restore_sessions(const SavedState& state,
                               const std::function<UniqueFd(std::uint64_t)>& take_socket);
  // What a server with `limits` takes from a saved state: no client with more input or
  // output than it could have held itself (such a state is refused, not trimmed).
  [[nodiscard]] static SavedStateLimits restorable_limits(const ServerLimits& limits);
  // From now on, tells `keeper` of every plain client socket taken on or let go (null:
  // nobody; clients already connected are not told of).
  void keep_sockets_with(SocketKeeper* keeper) noexcept { keeper_ = keeper; }
  // The first half of a planned restart: stops accepting and reading (what clients send
  // meanwhile waits in their sockets for the next process), and asks every encrypted client
  // to reconnect. Then the loop flushes until is_ready_to_hand_on() or a deadline, and
  // save_sessions() takes what is left.
  void prepare_restart();
  // Whether nothing is left to flush: no encrypted or closing session, no pending output.
  [[nodiscard]] bool is_ready_to_hand_on() const;
  // Clients a fresh server takes on over sockets kept across a restart, without a saved
  // state to restore them from: each is `notice`d, then welcomed like a new client.
  void admit_again(UniqueFd connection, std::string_view notice);
  // A socket kept across a restart whose client cannot be taken on again: it gets
  // `notice` and a clean close.
  void turn_away(UniqueFd connection, const std::string& notice) {
    refuse(std::move(connection), notice);
  }

  // Leaving (server.cpp).
  // The session's peer finished sending: it leaves the room (others are told, with
  // `reason` if not empty) but keeps receiving what is already queued for it. Its nickname
  // is free from then on.
  void leave(Session& session, std::string_view reason = {});
  // /quit: leaves with `reason`, then closes once its output is out.
  void quit(Session& session, std::string_view reason);
  // The session's peer finished sending (EOF): it leaves its room and only flushes.
  void peer_finished(Session& session);
  // The session's connection closed; it is destroyed at the end of the turn.
  void retire(Session& session, CloseReason reason);

  void on_accepted(UniqueFd connection) override;
  void on_accept_error(int error) override;
  void on_refused(int connection) override;
  bool admits_handshake() override;
  void on_handshake_done(UniqueFd connection, std::unique_ptr<TlsStream> tls) override;
  void on_handshake_failed(int connection, const std::string& reason) override;
  void run_deferred() override;

 private:
  // The TLS listeners' handler: screens each peer before the TlsAcceptor spends a handshake
  // on it, so a peer outside the allow list costs no public-key work and can read the notice
  // in clear text.
  class TlsEntrance final : public ListenerHandler {
   public:
    explicit TlsEntrance(Server& server) noexcept : server_(server) {}
    void on_accepted(UniqueFd connection) override;
    void on_accept_error(int error) override { server_.on_accept_error(error); }

   private:
    Server& server_;
  };

  // Whether the peer of `connection` is in `allowed` (or not an IP peer at all). One that is
  // not is told so and closed, and `connection` is left empty.
  [[nodiscard]] bool screen(UniqueFd& connection, const AddressRanges& allowed);
  // A new client, plain (`tls` null) or with its handshake done.
  void admit(UniqueFd connection, std::unique_ptr<TlsStream> tls,
             std::string_view first_notice = {});
  // Whether sessions and handshakes leave room for one more client; logs the first refusal.
  bool has_room_for_client();
  // Writes `notice` to a fresh connection and closes it without losing the notice.
  void refuse(UniqueFd connection, const std::string& notice);
  void enter(Session& session, Room& room);
  void leave_room(Session& session, std::string_view reason);
  // Registers the nickname locally, tells the room and the other nodes.
  void complete_nickname_change(Session& session, std::string_view nickname);
  // "*** OLD is now known as NEW" to the session's room and the other nodes.
  void announce_rename(const Session& session, std::string_view old_name);
  [[nodiscard]] bool is_nickname_taken(const Session& session, std::string_view nickname) const;
  void release_nickname(const Session& session);
  [[nodiscard]] Session* find_local(std::string_view target);

  EventLoop& loop_;
  const Log& log_;
  ConnectionLimits limits_;
  std::size_t max_clients_;
  AddressRanges allowed_;
  AddressRanges tls_allowed_;
  // Declared before the sessions: their queues hold chunks of the rooms' pool.
  RoomRegistry rooms_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  // Before the TLS listeners, which hand it their connections.
  TlsAcceptor tls_acceptor_;
  TlsEntrance tls_entrance_{*this};
  std::vector<std::unique_ptr<Listener>> tls_listeners_;
  // Refused connections, until their peers have read the notice and closed.
  LingeringClose refusals_;
  SessionMap sessions_;
  FlowControl flow_;
  NicknameRegistry nicknames_;
  std::vector<std::uint64_t> retired_;
  RepeatedLog cut_off_log_;
  RepeatedLog accept_error_log_;
  KeyedRepeatedLog not_allowed_log_;
  // A connection the server could not take on (out of memory or epoll watches): what
  // refuses one usually refuses the next ones too.
  RepeatedLog dropped_log_;
  std::unique_ptr<OtherNodes> other_nodes_ = std::make_unique<LoneNode>();
  SocketKeeper* keeper_ = nullptr;
  std::size_t present_ = 0;    // sessions in a room (connected and not yet left)
  std::size_t encrypted_ = 0;  // sessions over TLS
  std::uint64_t next_id_ = 1;
  std::uint64_t relayed_ = 0;
  bool shutting_down_ = false;
  bool full_ = false;  // a "server full" refusal was logged and capacity not seen since
  bool status_changed_ = false;
  std::function<void()> status_changed_callback_;
};

}  // namespace epollchat::chat
