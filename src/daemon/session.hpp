// Session: one chatting client, as the server sees it — its connection, id and name.
//
// Owns: its Connection.
// Never: destroys itself or touches other sessions directly; everything that involves
// the room or the other clients goes through its Server.
// Lifetime: created by Server::on_accepted, destroyed by the Server in the deferred phase
// of the turn in which its connection closed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/connection.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::daemon {

class Server;

class Session final : public ConnectionHandler {
 public:
  // Throws std::system_error if the connection cannot be watched.
  Session(Server& server, std::uint64_t id, UniqueFd fd);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  // What others see: "Client #<id>".
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] Connection& connection() noexcept { return connection_; }
  [[nodiscard]] const Connection& connection() const noexcept { return connection_; }

  void on_line(Connection& connection, std::string_view line) override;
  void on_line_too_long(Connection& connection) override;
  void on_input_batch_end(Connection& connection) override;
  void on_throttled(Connection& connection) override;
  void on_peer_finished(Connection& connection) override;
  void on_closed(Connection& connection, CloseReason reason) override;

 private:
  Server& server_;
  std::uint64_t id_;
  std::string name_;
  bool told_to_slow_down_ = false;
  Connection connection_;
};

}  // namespace epollchat::daemon
