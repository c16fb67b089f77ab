#include "daemon/session.hpp"

#include "core/protocol.hpp"
#include "daemon/server.hpp"

namespace epollchat::daemon {

Session::Session(Server& server, std::uint64_t id, UniqueFd fd)
    : server_(server),
      id_(id),
      name_(protocol::client_name(id)),
      connection_(server.loop(), std::move(fd), *this, server.connection_limits()) {}

void Session::on_line(Connection& /*connection*/, std::string_view line) {
  Room& room = server_.room();
  if (room.size() <= 1) {
    room.send_to(connection_, protocol::alone_line());
    return;
  }
  room.stage_chat_line(connection_, name_, line);
  server_.count_relayed();
}

void Session::on_line_too_long(Connection& /*connection*/) {
  server_.room().send_to(connection_,
                         protocol::line_too_long_line(server_.connection_limits().max_line));
}

void Session::on_input_batch_end(Connection& /*connection*/) { server_.room().flush_staged(); }

void Session::on_throttled(Connection& /*connection*/) {
  if (!told_to_slow_down_) {
    told_to_slow_down_ = true;
    server_.room().send_to(connection_,
                           protocol::slow_down_line(server_.connection_limits().max_rate));
  }
  server_.throttle(*this);
}

void Session::on_peer_finished(Connection& /*connection*/) { server_.leave(*this); }

void Session::on_closed(Connection& /*connection*/, CloseReason reason) {
  server_.retire(*this, reason);
}

}  // namespace epollchat::daemon
