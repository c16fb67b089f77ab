#include "chat/server.hpp"

#include <sys/socket.h>

#include <cstring>
#include <system_error>
#include <vector>

#include "chat/names.hpp"
#include "chat/protocol.hpp"
#include "core/clock.hpp"
#include "core/counted.hpp"

namespace epollchat::chat {
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
    case CloseReason::flush_stalled:
      return "cut off: read none of its last output for 10 s after it left";
    case CloseReason::server_closed:
      return "closed by the server";
    case CloseReason::io_error:
      return "I/O error";
  }
  return "closed";
}

// Refused connections held until their peers close (see LingeringClose): enough for a burst
// of reconnecting clients; beyond it a refusal is closed at once.
constexpr std::size_t kMaxLingeringRefusals = 256;
// Addresses whose refusal was logged in the last minute: a flood from more addresses than
// this is summed up in one line a minute.
constexpr std::size_t kMaxRefusedAddressesLogged = 1024;

}  // namespace

Server::Server(EventLoop& loop, const Log& log, const ServerLimits& limits)
    : loop_(loop),
      log_(log),
      limits_(limits.connection),
      max_clients_(limits.max_clients),
      allowed_(limits.allowed),
      tls_allowed_(limits.tls_allowed),
      tls_acceptor_(loop, *this),
      refusals_(loop, kMaxLingeringRefusals),
      flow_(loop, log, sessions_, limits.line_timeout),
      cut_off_log_(log, LogLevel::warning),
      accept_error_log_(log, LogLevel::err),
      not_allowed_log_(log, LogLevel::notice, kMaxRefusedAddressesLogged),
      dropped_log_(log, LogLevel::warning) {
  rooms_.set_history_lines(limits.history);
}

Server::~Server() {
  loop_.cancel(*this);
  // The link goes first, so that nothing arrives for sessions being destroyed.
  other_nodes_ = std::make_unique<LoneNode>();
  // Sessions before the rooms: their queues hold chunks of the pool, and the rooms list them.
  sessions_.clear();
}

void Server::link_to_other_nodes(const NodeLinkFactory& make_link) {
  other_nodes_ = std::make_unique<LinkedNodes>(*this, make_link);
}

Session* Server::find_session(std::uint64_t id) {
  const auto found = sessions_.find(id);
  return found == sessions_.end() ? nullptr : found->second.get();
}

void Server::add_listener(UniqueFd listening) {
  listeners_.push_back(std::make_unique<Listener>(loop_, std::move(listening), *this));
}

std::vector<SocketAddress> Server::addresses() const {
  std::vector<SocketAddress> result;
  for (const auto& listener : listeners_) result.push_back(listener->address());
  return result;
}

void Server::add_tls_listener(UniqueFd listening) {
  tls_listeners_.push_back(std::make_unique<Listener>(loop_, std::move(listening), tls_entrance_));
}

std::vector<SocketAddress> Server::tls_addresses() const {
  std::vector<SocketAddress> result;
  for (const auto& listener : tls_listeners_) result.push_back(listener->address());
  return result;
}

void Server::apply_limits(const ServerLimits& limits) {
  limits_ = limits.connection;
  max_clients_ = limits.max_clients;
  allowed_ = limits.allowed;
  tls_allowed_ = limits.tls_allowed;
  flow_.set_line_timeout(limits.line_timeout);
  rooms_.set_history_lines(limits.history);
  other_nodes_->keep_history(limits.history);
}

void Server::on_accepted(UniqueFd fd) {
  if (shutting_down_) return;
  // Before the count of clients: a refused peer never takes the place of an allowed one.
  if (!screen(fd, allowed_)) return;
  if (!has_room_for_client()) {
    refuse(std::move(fd), protocol::server_full_line(max_clients_));
    return;
  }
  admit(std::move(fd), nullptr);
}

void Server::TlsEntrance::on_accepted(UniqueFd fd) {
  if (server_.shutting_down_) return;
  if (!server_.screen(fd, server_.tls_allowed_)) return;
  server_.tls_acceptor_.on_accepted(std::move(fd));
}

bool Server::screen(UniqueFd& fd, const AddressRanges& allowed) {
  if (allowed.contains_everything()) return true;
  SocketAddress peer;
  try {
    peer = SocketAddress::peer_of(fd.get());
  } catch (const std::system_error&) {
    // Reset before we got to it: nobody is left to tell.
    fd.reset();
    return false;
  }
  // A peer on a unix socket that systemd passed in is let in by the socket file's mode, not
  // by an address.
  if (peer.family() != AF_INET && peer.family() != AF_INET6) return true;
  if (allowed.contains(peer)) return true;
  const std::string address = host_text(peer);
  not_allowed_log_.write(address, "connection from " + address + " refused: not in the allow list");
  refuse(std::move(fd), protocol::not_allowed_line(address));
  return false;
}

bool Server::admits_handshake() {
  // A TLS client cannot read a plain-text notice; it is closed instead.
  return !shutting_down_ && has_room_for_client();
}

void Server::on_handshake_done(UniqueFd fd, std::unique_ptr<TlsStream> tls) {
  if (shutting_down_) return;
  admit(std::move(fd), std::move(tls));
}

void Server::on_handshake_failed(int fd, const std::string& reason) {
  // At debug only: anyone can make a handshake fail, as often as they like.
  if (!log_.is_enabled(LogLevel::debug)) return;
  std::string from;
  try {
    from = " from " + SocketAddress::peer_of(fd).to_string();
  } catch (const std::system_error&) {
    // Gone already.
  }
  log_.debug("TLS handshake failed" + from + ": " + reason);
}

bool Server::has_room_for_client() {
  if (sessions_.size() + tls_acceptor_.handshakes() < max_clients_) {
    full_ = false;
    return true;
  }
  if (!full_) {
    full_ = true;
    log_.warning("server full (" + counted(max_clients_, "client", "clients") +
                 "): refusing new connections");
  }
  return false;
}

void Server::admit(UniqueFd fd, std::unique_ptr<TlsStream> tls, std::string_view first_notice) {
  set_tcp_nodelay(fd.get());
  const std::uint64_t id = next_id_++;
  const bool encrypted = tls != nullptr;
  std::unique_ptr<Session> session;
  try {
    session =
        std::make_unique<Session>(*this, id, protocol::client_name(other_nodes_->node_id(), id),
                                  std::move(fd), std::move(tls));
  } catch (const std::system_error& failure) {
    dropped_log_.write("client #" + std::to_string(id) + " dropped: " + failure.what());
    return;
  }
  Session& joined = *session;
  sessions_.emplace(id, std::move(session));
  if (encrypted) {
    ++encrypted_;
  } else if (keeper_ != nullptr) {
    keeper_->keep(id, joined.connection().fd());
  }

  // At debug only: a flood of connections must not flood the journal.
  if (log_.is_enabled(LogLevel::debug)) {
    std::string from;
    try {
      from = " from " + SocketAddress::peer_of(joined.connection().fd()).to_string();
    } catch (const std::system_error&) {
      // Already reset by the peer; the read will find out.
    }
    if (const TlsStream* stream = joined.connection().tls()) {
      from += " over " + stream->description() +
              (stream->sends_through_kernel() ? " (kernel TLS)" : "");
    }
    log_.debug("client #" + std::to_string(id) + " connected" + from);
  }
  // Written straight to the fresh, empty socket rather than into the room's chunk: there it
  // would sit between consecutive join notices and split every member's otherwise merged
  // queue range into one segment per join.
  // The lobby's history follows the welcome the same way, ahead of any live line (entering
  // queues nothing for the one who enters); on linked nodes it may come later.
  ++present_;
  enter(joined, rooms_.lobby());
  const std::string welcome =
      std::string(first_notice) + protocol::welcome_line(joined.name()) +
      other_nodes_->history_for(joined, rooms_.lobby(), limits_.max_backlog / 2);
  const std::size_t written = joined.connection().write_directly(welcome);
  if (written < welcome.size()) {
    rooms_.lobby().send_to(joined.connection(), std::string_view(welcome).substr(written));
  }
  other_nodes_->greet(joined);
  note_status_change();
}

void Server::refuse(UniqueFd fd, const std::string& notice) {
  // A fresh socket's send buffer is empty, so the notice goes out whole without waiting; the
  // lingering close lets the peer read it before the FIN instead of losing it to an RST.
  (void)send(fd.get(), notice.data(), notice.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  refusals_.close(std::move(fd));
}

void Server::on_refused(int connection) {
  const std::string notice = protocol::server_busy_line();
  (void)send(connection, notice.data(), notice.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Server::on_accept_error(int error) {
  accept_error_log_.write(std::string("accept: ") + std::strerror(error) +
                          "; refusing connections until it clears");
}

void Server::leave(Session& session, std::string_view reason) {
  if (session.room() == nullptr) return;
  leave_room(session, reason);
  --present_;
  release_nickname(session);
  note_status_change();
}

void Server::quit(Session& session, std::string_view reason) {
  leave(session, reason);
  session.connection().close_after_flush();
  flow_.closing(session);
}

void Server::peer_finished(Session& session) {
  leave(session);
  flow_.closing(session);
}

void Server::retire(Session& session, CloseReason reason) {
  flow_.retire(session);
  std::string message = "client #" + std::to_string(session.id()) + " " + describe(reason);
  if (const int error = session.connection().error(); error != 0) {
    message += std::string(": ") + std::strerror(error);
  }
  if (reason == CloseReason::backlog_exceeded || reason == CloseReason::reader_stalled ||
      reason == CloseReason::flush_stalled || reason == CloseReason::io_error) {
    cut_off_log_.write(message);
  } else {
    log_.debug(message);
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
    if (found->second->connection().is_encrypted()) {
      --encrypted_;
    } else if (keeper_ != nullptr) {
      keeper_->release(found->first);
    }
    sessions_.erase(found);
  }
  retired_.clear();
}

void Server::begin_shutdown() {
  shutting_down_ = true;
  for (auto& listener : listeners_) listener->stop();
  for (auto& listener : tls_listeners_) listener->stop();
  // The other nodes drop all of this node's clients at once, with their leave notices.
  other_nodes_->say_goodbye();
  rooms_.broadcast_everywhere(protocol::shutting_down_line());
  for (auto& [id, session] : sessions_) session->connection().close_after_flush();
}

}  // namespace epollchat::chat
