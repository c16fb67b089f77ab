// Server: the chat service — listeners, sessions and the room they share.
//
// Owns: the listening sockets, every session, the room and the chunk pool behind it, and the
// registry of nicknames (case-insensitively unique; a name is freed when its owner leaves).
// Never: exits, blocks, or lets one client's failure reach another or the loop; talks to
// systemd (main does that, from the status it reads here).
// Lifetime: sessions whose connections closed during a turn are destroyed in that turn's
// deferred phase, after every event of the batch was dispatched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/chunk.hpp"
#include "core/connection.hpp"
#include "core/event_loop.hpp"
#include "core/listener.hpp"
#include "core/room.hpp"
#include "core/socket.hpp"
#include "core/timer.hpp"
#include "daemon/log.hpp"
#include "daemon/session.hpp"
#include "daemon/settings.hpp"

namespace epollchat::daemon {

class Server final : public ListenerHandler, public DeferredTask {
 public:
  Server(EventLoop& loop, const Log& log, const Settings& settings);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves a listening socket; throws std::system_error.
  void add_listener(UniqueFd listening);
  [[nodiscard]] std::vector<SocketAddress> addresses() const;

  // The limits a reload may change while clients stay connected. New limits apply to the
  // next line read and the next output queued.
  void apply_limits(const Settings& settings);

  // Stops accepting, tells every client, and closes each once its output is out.
  void begin_shutdown();
  [[nodiscard]] bool has_sessions() const noexcept { return !sessions_.empty(); }

  [[nodiscard]] std::size_t online() const noexcept { return room_.size(); }
  [[nodiscard]] std::uint64_t relayed() const noexcept { return relayed_; }
  // Called once when online() or relayed() first changes after take_status_change().
  void on_status_change(std::function<void()> callback) {
    status_changed_callback_ = std::move(callback);
  }
  // Re-arms the status-change callback; returns whether anything changed.
  bool take_status_change() noexcept { return std::exchange(status_changed_, false); }

  // For sessions.
  [[nodiscard]] EventLoop& loop() noexcept { return loop_; }
  [[nodiscard]] Room& room() noexcept { return room_; }
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
  // Gives `session` the (valid) nickname, freeing its old one; false if another member
  // holds it in any case. Others are not told here.
  bool claim_nickname(Session& session, std::string_view nickname);
  // The member called `target` (a nickname in any case, or "#<id>"), or null.
  [[nodiscard]] Session* find_member(std::string_view target);
  // The /who reply: every member's name, in join order.
  [[nodiscard]] std::string who_lines() const;
  // The session is over max-rate and stopped reading; it is resumed shortly.
  void throttle(Session& session);
  // Backpressure. While some recipient cannot take its output (congested: more than half
  // of max-backlog unsent), a heavy sender (a full read in one batch) stops being read
  // until every recipient is below a quarter again; light chatters are never paused. A
  // congested recipient that makes no progress for kStallTimeout is cut off, so a client
  // that stops reading cannot hold the senders back for long.
  void pace_sender(Session& session);
  void note_congestion(Session& session, bool congested);
  // The session's connection closed; it is destroyed at the end of the turn.
  void retire(Session& session, CloseReason reason);

  void on_accepted(UniqueFd connection) override;
  void on_accept_error(int error) override;
  void run_deferred() override;

 private:
  void refuse_full(UniqueFd connection);
  void release_nickname(const Session& session);
  void resume_throttled();
  void resume_paused_senders();
  void cut_off_stalled_readers();
  void disconnect_stale_lines();
  void schedule_line_timeouts();
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
  Room room_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Session>> sessions_;
  // Nicknames in lower case -> their holder. Only named members have an entry, so an idle
  // client without a nickname costs nothing here.
  std::unordered_map<std::string, Session*> nicknames_;
  std::vector<std::uint64_t> retired_;
  std::vector<std::uint64_t> throttled_;
  std::vector<std::uint64_t> congested_;
  std::vector<std::uint64_t> paused_senders_;
  Timer throttle_timer_;
  Timer line_timeout_timer_;
  Timer stall_timer_;
  std::size_t line_timeout_seconds_;
  std::uint64_t next_id_ = 1;
  std::uint64_t relayed_ = 0;
  bool shutting_down_ = false;
  bool full_ = false;  // a "server full" refusal was logged and capacity not seen since
  int last_accept_error_ = 0;
  bool status_changed_ = false;
  std::function<void()> status_changed_callback_;
};

}  // namespace epollchat::daemon
