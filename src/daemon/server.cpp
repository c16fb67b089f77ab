#include "daemon/server.hpp"

#include <sys/socket.h>

#include <cstring>
#include <system_error>
#include <vector>

#include "core/clock.hpp"
#include "core/command.hpp"
#include "core/protocol.hpp"

namespace epollchat::daemon {
namespace {

const char* describe(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::peer_closed:
      return "closed the connection";
    case CloseReason::peer_reset:
      return "reset the connection";
    case CloseReason::backlog_exceeded:
      return "cut off: output backlog over max-backlog (not reading)";
    case CloseReason::reader_stalled:
      return "cut off: read nothing for 3 s with output backlog over half of max-backlog";
    case CloseReason::server_closed:
      return "closed by the server";
    case CloseReason::io_error:
      return "I/O error";
  }
  return "closed";
}

// How often throttled readers are looked at again: their allowance refills continuously,
// so this only sets the granularity of the delay.
constexpr auto kThrottleRecheck = std::chrono::milliseconds(50);
// How often incomplete lines are checked for age; a timeout of N s fires within N+1 s.
constexpr auto kLineTimeoutSweep = std::chrono::seconds(1);

// A recipient over half of max-backlog that writes nothing for this long is cut off. Long
// enough for a client that is merely busy; short enough that a stalled one holds heavy
// senders back only briefly.
constexpr auto kStallTimeout = std::chrono::seconds(3);
constexpr auto kStallCheck = std::chrono::milliseconds(250);
// A sender that sent this much beyond Connection::kRecentInputDrainPerSecond (a full read
// at once, or more than 64 KiB/s for a while) is flooding, not chatting. Judged by rate,
// not by batch size: a writer whose lines the server reads as fast as they come arrives
// in small batches however fast it goes.
constexpr std::uint64_t kHeavySenderBytes = 64 * 1024;

}  // namespace

Server::Server(EventLoop& loop, const Log& log, const Settings& settings)
    : loop_(loop),
      log_(log),
      limits_{settings.max_line, settings.max_backlog, settings.max_rate},
      max_clients_(settings.max_clients),
      throttle_timer_(loop, [this] { resume_throttled(); }),
      line_timeout_timer_(loop, [this] { disconnect_stale_lines(); }),
      stall_timer_(loop, [this] { cut_off_stalled_readers(); }),
      sync_timer_(loop, [this] { finish_sync(); }),
      line_timeout_seconds_(settings.line_timeout) {
  auto lobby = std::make_unique<Room>(writer_, std::string(kLobby));
  lobby_ = lobby.get();
  rooms_.emplace(std::string(kLobby), std::move(lobby));
  if (!settings.redis.empty()) {
    node_id_ = settings.node_id.empty() ? random_node_id() : settings.node_id;
    // Checked when the settings were read.
    link_ = std::make_unique<ClusterLink>(loop_, log_, *RedisAddress::parse(settings.redis),
                                          RedisLogin{settings.redis_user, settings.redis_password},
                                          node_id_, *this);
  }
  schedule_line_timeouts();
}

Server::~Server() {
  loop_.cancel(*this);
  link_.reset();
  // Sessions first: their queues hold chunks of the pool, and the rooms list them.
  sessions_.clear();
}

void Server::add_listener(UniqueFd listening) {
  listeners_.push_back(std::make_unique<Listener>(loop_, std::move(listening), *this));
}

std::vector<SocketAddress> Server::addresses() const {
  std::vector<SocketAddress> result;
  for (const auto& listener : listeners_) result.push_back(listener->address());
  return result;
}

void Server::apply_limits(const Settings& settings) {
  limits_.max_line = settings.max_line;
  limits_.max_backlog = settings.max_backlog;
  limits_.max_rate = settings.max_rate;
  max_clients_ = settings.max_clients;
  line_timeout_seconds_ = settings.line_timeout;
  schedule_line_timeouts();
}

void Server::schedule_line_timeouts() {
  if (line_timeout_seconds_ == 0) {
    line_timeout_timer_.disarm();
  } else if (!line_timeout_timer_.is_armed()) {
    line_timeout_timer_.arm(kLineTimeoutSweep, kLineTimeoutSweep);
  }
}

void Server::disconnect_stale_lines() {
  if (line_timeout_seconds_ == 0 || shutting_down_) return;
  const std::int64_t oldest_allowed =
      coarse_now_ns() - static_cast<std::int64_t>(line_timeout_seconds_) * 1'000'000'000;
  for (auto& [id, session] : sessions_) {
    Connection& connection = session->connection();
    const std::int64_t since = connection.partial_line_since();
    if (since == 0 || since > oldest_allowed || !connection.is_reading()) continue;
    log_.info("client #" + std::to_string(id) + " disconnected: incomplete line older than " +
              std::to_string(line_timeout_seconds_) + " s");
    session->reply(protocol::line_timeout_line(line_timeout_seconds_));
    connection.close_after_flush();
  }
}

void Server::throttle(Session& session) {
  throttled_.push_back(session.id());
  if (!throttle_timer_.is_armed()) {
    throttle_timer_.arm(std::chrono::duration_cast<std::chrono::microseconds>(kThrottleRecheck));
  }
}

void Server::resume_throttled() {
  std::vector<std::uint64_t> waiting;
  waiting.swap(throttled_);
  // A session may be listed twice; resuming twice in one turn is harmless.
  for (const std::uint64_t id : waiting) {
    Session* session = find_session(id);
    if (session != nullptr && session->connection().is_reading()) {
      session->connection().resume_reading();
    }
  }
}

void Server::on_accepted(UniqueFd fd) {
  if (shutting_down_) return;
  if (sessions_.size() >= max_clients_) {
    refuse_full(std::move(fd));
    return;
  }
  full_ = false;
  set_tcp_nodelay(fd.get());
  const std::uint64_t id = next_id_++;
  std::unique_ptr<Session> session;
  try {
    session =
        std::make_unique<Session>(*this, id, protocol::client_name(node_id_, id), std::move(fd));
  } catch (const std::system_error& failure) {
    log_.warning("client #" + std::to_string(id) + " dropped: " + failure.what());
    return;
  }
  Session& joined = *session;
  sessions_.emplace(id, std::move(session));

  if (log_.is_enabled(LogLevel::info)) {
    std::string from;
    try {
      from = " from " + SocketAddress::peer_of(joined.connection().fd()).to_string();
    } catch (const std::system_error&) {
      // Already reset by the peer; the read will find out.
    }
    log_.info("client #" + std::to_string(id) + " connected" + from);
  }
  // Written straight to the fresh, empty socket rather than into the room's chunk: there it
  // would sit between consecutive join notices and split every member's otherwise merged
  // queue range into one segment per join.
  const std::string welcome = protocol::welcome_line(joined.name());
  const std::size_t written = joined.connection().write_directly(welcome);
  if (written < welcome.size()) {
    lobby_->send_to(joined.connection(), std::string_view(welcome).substr(written));
  }
  ++present_;
  enter(joined, *lobby_);
  if (link_ && told_link_lost_) joined.reply(protocol::link_lost_line());
  note_status_change();
}

void Server::refuse_full(UniqueFd fd) {
  if (!full_) {
    full_ = true;
    log_.warning("server full (" + std::to_string(max_clients_) +
                 " clients): refusing new connections");
  }
  // A fresh socket's send buffer is empty, so the notice goes out whole without waiting.
  const std::string notice = protocol::server_full_line(max_clients_);
  (void)send(fd.get(), notice.data(), notice.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)shutdown(fd.get(), SHUT_WR);
}

void Server::on_accept_error(int error) {
  // Logged once per kind of error in a row, not once per refused connection.
  if (error == last_accept_error_) return;
  last_accept_error_ = error;
  log_.error(std::string("accept: ") + std::strerror(error) +
             "; refusing connections until it clears");
}

void Server::leave(Session& session, std::string_view reason) {
  if (session.room() == nullptr) return;
  leave_room(session, reason);
  --present_;
  release_nickname(session);
  note_status_change();
}

void Server::release_nickname(const Session& session) {
  if (!session.has_nickname()) return;
  const std::string key = lower_case_ascii(session.name());
  const auto found = nicknames_.find(key);
  if (found != nicknames_.end() && found->second == &session) nicknames_.erase(found);
  if (link_) link_->release_nickname(key, owner_of(session.id()));
}

void Server::quit(Session& session, std::string_view reason) {
  leave(session, reason);
  session.connection().close_after_flush();
}

void Server::pace_sender(Session& session) {
  Connection& connection = session.connection();
  if (congested_.empty() || connection.recent_input_bytes() < kHeavySenderBytes ||
      connection.is_reading_paused() || !connection.is_reading()) {
    return;
  }
  connection.pause_reading();
  paused_senders_.push_back(session.id());
}

void Server::note_congestion(Session& session, bool congested) {
  if (congested) {
    congested_.push_back(session.id());
    if (!stall_timer_.is_armed()) {
      stall_timer_.arm(std::chrono::duration_cast<std::chrono::microseconds>(kStallCheck),
                       std::chrono::duration_cast<std::chrono::microseconds>(kStallCheck));
    }
    return;
  }
  std::erase(congested_, session.id());
  if (congested_.empty()) resume_paused_senders();
}

void Server::resume_paused_senders() {
  stall_timer_.disarm();
  std::vector<std::uint64_t> paused;
  paused.swap(paused_senders_);
  for (const std::uint64_t id : paused) {
    if (Session* session = find_session(id)) session->connection().unpause_reading();
  }
}

void Server::cut_off_stalled_readers() {
  const std::int64_t stalled_before =
      coarse_now_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(kStallTimeout).count();
  // Copied: cutting one off retires it, which edits congested_.
  const std::vector<std::uint64_t> congested = congested_;
  for (const std::uint64_t id : congested) {
    Session* session = find_session(id);
    if (session == nullptr) continue;
    Connection& connection = session->connection();
    if (connection.is_open() && connection.last_output_progress() < stalled_before) {
      connection.close_now(CloseReason::reader_stalled);
    }
  }
}

void Server::retire(Session& session, CloseReason reason) {
  std::erase(congested_, session.id());
  if (congested_.empty() && !paused_senders_.empty()) resume_paused_senders();
  const std::string message = "client #" + std::to_string(session.id()) + " " + describe(reason);
  if (reason == CloseReason::backlog_exceeded || reason == CloseReason::reader_stalled ||
      reason == CloseReason::io_error) {
    log_.warning(message + (session.connection().error() != 0
                                ? std::string(": ") + std::strerror(session.connection().error())
                                : std::string()));
  } else {
    log_.info(message);
  }
  retired_.push_back(session.id());
  loop_.defer(*this);
}

void Server::run_deferred() {
  // Indexed: a leave notice can cut off another slow reader, which retires it in turn.
  for (std::size_t i = 0; i < retired_.size(); ++i) {
    const auto found = sessions_.find(retired_[i]);
    if (found == sessions_.end()) continue;
    leave(*found->second);
    sessions_.erase(found);
  }
  retired_.clear();
  last_accept_error_ = 0;
}

void Server::begin_shutdown() {
  shutting_down_ = true;
  for (auto& listener : listeners_) listener->stop();
  // The other nodes drop all of this node's clients at once, with their leave notices.
  if (link_) link_->say_goodbye();
  broadcast_everywhere(protocol::shutting_down_line());
  for (auto& [id, session] : sessions_) session->connection().close_after_flush();
}

}  // namespace epollchat::daemon
