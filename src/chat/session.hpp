// Session: one chatting client, as the server sees it — its connection, id and name.
//
// Owns: its Connection and its display name ("Client #<id>" until /nick gives it one).
// Never: destroys itself or touches other sessions directly; everything that involves
// the room or the other clients goes through its Server.
// Lifetime: created by Server::on_accepted, destroyed by the Server in the deferred phase
// of the turn in which its connection closed.
//
// Input: a line that does not start with '/' is chat, told apart by one byte check; anything
// else goes through parse_command() (chat/command.hpp).
// Every reply and notice goes through the Room, so it keeps its place among staged chat.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "chat/room.hpp"
#include "core/connection.hpp"
#include "core/leaky_bucket.hpp"
#include "core/tls_stream.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::chat {

class Server;

class Session final : public ConnectionHandler {
 public:
  // `name` is "Client #<id>" (or "Client #<node>:<id>" with a link). Throws
  // std::system_error if the connection cannot be watched.
  Session(Server& server, std::uint64_t id, std::string name, UniqueFd fd,
          std::unique_ptr<TlsStream> tls = nullptr);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  // What others see: the nickname, or "Client #<id>" without one.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] bool has_nickname() const noexcept { return has_nickname_; }
  // Only the Server calls this, after reserving the nickname in its registry.
  void set_nickname(std::string_view nickname) {
    name_ = nickname;
    has_nickname_ = true;
  }
  // Back to "Client #..." (the Server lost the nickname to another node's client).
  void drop_nickname(std::string client_name) {
    name_ = std::move(client_name);
    has_nickname_ = false;
  }
  // The room the session is in; null once it left (it may still be sending what is queued).
  [[nodiscard]] Room* room() const noexcept { return room_; }
  // Only the Server calls this.
  void set_room(Room* room) noexcept { room_ = room; }
  // Queues a line to this client after everything its room accepted so far.
  void reply(std::string_view line);
  [[nodiscard]] Connection& connection() noexcept { return connection_; }
  [[nodiscard]] const Connection& connection() const noexcept { return connection_; }
  // What this client made the server queue for each recipient lately (its chat and /me
  // lines, formatted), as of its last batch: every batch adds, kOutputDrainPerSecond drains.
  // Judged on output, not input: a 1-byte line costs every recipient 20 bytes.
  [[nodiscard]] std::uint64_t recent_output_bytes() const noexcept { return sent_.level(); }
  static constexpr std::uint64_t kOutputDrainPerSecond = 64 * 1024;
  [[nodiscard]] bool was_told_to_slow_down() const noexcept { return told_to_slow_down_; }
  // After a restart: the flow-control state the previous process handed on.
  void restore_flow(std::uint64_t recent_output_bytes, bool told_to_slow_down) noexcept {
    sent_.add(recent_output_bytes, coarse_now());
    told_to_slow_down_ = told_to_slow_down;
  }

  // The session behind a connection of the server's (every one the server makes is a
  // Session's).
  [[nodiscard]] static const Session& of(const Connection& connection) noexcept {
    return static_cast<const Session&>(connection.handler());
  }

  void before_reading(Connection& connection) override;
  void on_line(Connection& connection, std::string_view line) override;
  void on_line_too_long(Connection& connection) override;
  void on_input_batch_end(Connection& connection) override;
  void on_throttled(Connection& connection) override;
  void on_output_congestion(Connection& connection, bool congested) override;
  void on_peer_finished(Connection& connection) override;
  void on_closed(Connection& connection, CloseReason reason) override;

 private:
  // Whether anyone would hear the session in its room; if nobody would, it is told it is
  // alone (and a session that left is silently not heard).
  bool has_audience();
  // Whether a line said now goes anywhere (locally or to other nodes).
  bool is_heard();
  // Counts bytes queued for each recipient by the batch being read.
  void count_sent(std::size_t bytes) noexcept;
  // Chat text (a plain line, or `//text` without its first '/').
  void say(std::string_view text);
  void run_command(std::string_view line);
  void change_nickname(std::string_view nickname);
  void whisper(std::string_view target, std::string_view text);
  void act(std::string_view action);
  void join(std::string_view room);

  Server& server_;
  std::uint64_t id_;
  std::string name_;
  Room* room_ = nullptr;
  LeakyBucket<kOutputDrainPerSecond> sent_;
  // Bytes queued per recipient during the batch being read, added to sent_ at its end
  // (32 bits, saturating, to keep an idle session small: a batch past 4 GiB is heavy anyway).
  std::uint32_t batch_sent_ = 0;
  bool told_to_slow_down_ = false;
  bool has_nickname_ = false;
  Connection connection_;
};

}  // namespace epollchat::chat
