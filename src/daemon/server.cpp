#include "daemon/server.hpp"

#include <sys/socket.h>

#include <cstring>
#include <system_error>

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
    case CloseReason::server_closed:
      return "closed by the server";
    case CloseReason::io_error:
      return "I/O error";
  }
  return "closed";
}

}  // namespace

Server::Server(EventLoop& loop, const Log& log, const Settings& settings)
    : loop_(loop),
      log_(log),
      limits_{settings.max_line, settings.max_backlog},
      max_clients_(settings.max_clients),
      room_(pool_) {}

Server::~Server() {
  loop_.cancel(*this);
  // Sessions first: their queues hold chunks of the pool, and the room lists them.
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
  max_clients_ = settings.max_clients;
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
    session = std::make_unique<Session>(*this, id, std::move(fd));
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
  room_.send_to(joined.connection(), protocol::welcome_line(id));
  room_.add(joined.connection());
  room_.broadcast(protocol::joined_line(joined.name(), room_.size()), &joined.connection());
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

void Server::leave(Session& session) {
  if (!room_.contains(session.connection())) return;
  room_.remove(session.connection());
  if (!shutting_down_) {
    room_.broadcast(protocol::left_line(session.name(), room_.size()), nullptr);
  }
  note_status_change();
}

void Server::retire(Session& session, CloseReason reason) {
  const std::string message = "client #" + std::to_string(session.id()) + " " + describe(reason);
  if (reason == CloseReason::backlog_exceeded || reason == CloseReason::io_error) {
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
  room_.broadcast(protocol::shutting_down_line(), nullptr);
  for (auto& [id, session] : sessions_) session->connection().close_after_flush();
}

}  // namespace epollchat::daemon
