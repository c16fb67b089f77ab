// Listener: accepts connections on one listening socket.
//
// Owns: the listening fd and a reserve fd (see below).
// Never: decides what a new connection is for; that is the handler's job.
// Lifetime: watched from construction until destruction or stop().
//
// Edge-triggered: it accepts until EAGAIN, or up to a per-turn budget and then resumes next
// turn. When the process is out of descriptors (EMFILE/ENFILE) the pending connection would
// stay queued, no new edge would ever come, and the listener would be wedged; so, as libuv
// and muduo do, it keeps one spare descriptor, frees it to accept the pending connection,
// lets the handler say why it is refused, closes it, and takes the descriptor back. Other
// accept errors (ENOBUFS, ENOMEM) are retried after kRetryDelay, not at once, so that a
// shortage of kernel memory does not make the loop spin.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/event_loop.hpp"
#include "core/socket.hpp"
#include "core/timer.hpp"
#include "core/unique_fd.hpp"

namespace epollchat {

class ListenerHandler {
 public:
  // A new non-blocking, CLOEXEC connection; the handler takes ownership.
  virtual void on_accepted(UniqueFd connection) = 0;
  // A connection was refused for lack of descriptors or memory (errno given); the
  // listener keeps going.
  virtual void on_accept_error(int error) = 0;
  // A pending connection taken with the spare descriptor only to be refused: the handler may
  // write a last word to it; the listener closes it after the call.
  virtual void on_refused(int /*connection*/) {}

 protected:
  ~ListenerHandler() = default;
};

class Listener final : public Watcher {
 public:
  static constexpr auto kRetryDelay = std::chrono::milliseconds(100);

  // Takes ownership of a listening socket (made non-blocking here). Throws std::system_error.
  Listener(EventLoop& loop, UniqueFd listening, ListenerHandler& handler);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  [[nodiscard]] const SocketAddress& address() const noexcept { return address_; }
  // Closes the listening socket: new connection attempts are refused from now on.
  void stop() noexcept;

  void on_events(std::uint32_t events) override;

 private:
  void refuse_one() noexcept;
  void retry_later();

  EventLoop& loop_;
  UniqueFd fd_;
  UniqueFd reserve_;
  ListenerHandler& handler_;
  SocketAddress address_;
  Timer retry_timer_;
};

}  // namespace epollchat
