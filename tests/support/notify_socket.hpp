// NotifySocket: the test's stand-in for systemd's notification socket.
//
// Owns: one AF_UNIX datagram socket bound to a unique abstract address (nothing on disk to
// clean up), given to the daemon as NOTIFY_SOCKET=@name. Every datagram received is kept in
// history(), so a test that waited for READY=1 can still look at what came before it.
// Never: sleeps: each wait is a poll(2) bounded by a timeout.
// Lifetime: the address is valid while the object lives.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "support/deadline.hpp"

namespace epollchat::test {

// One sd_notify datagram: newline-separated KEY=VALUE assignments.
struct NotifyMessage {
  std::string text;
  Clock::time_point received_at;

  // True if one line is exactly `assignment`, e.g. "READY=1".
  [[nodiscard]] bool has(std::string_view assignment) const;
  // The value of the first KEY=... line, e.g. field("STATUS").
  [[nodiscard]] std::optional<std::string> field(std::string_view key) const;
};

class NotifySocket {
 public:
  NotifySocket();  // throws std::system_error
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The value for NOTIFY_SOCKET, "@epollchat-test-...".
  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] int fd() const { return fd_.get(); }

  // Receives the next datagram, waiting up to `timeout`.
  std::optional<NotifyMessage> receive(std::chrono::milliseconds timeout);
  // Receives datagrams until one satisfies `matches`, waiting up to `timeout` in all.
  std::optional<NotifyMessage> wait_for(const std::function<bool(const NotifyMessage&)>& matches,
                                        std::chrono::milliseconds timeout);
  // Receives datagrams until one has the line `assignment` (e.g. "STOPPING=1").
  std::optional<NotifyMessage> wait_for(std::string_view assignment,
                                        std::chrono::milliseconds timeout);

  [[nodiscard]] const std::vector<NotifyMessage>& history() const { return history_; }

 private:
  UniqueFd fd_;
  std::string address_;
  std::vector<NotifyMessage> history_;
};

}  // namespace epollchat::test
