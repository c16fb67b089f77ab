// Listener: accepts connections on one listening socket.
//
// Owns: the listening fd and a reserve fd (see below).
// Never: decides what a new connection is for; that is the handler's job.
// Lifetime: watched from construction until destruction or stop().
//
// Edge-triggered: it accepts until EAGAIN, or up to a per-turn budget and then resumes next
// turn. When the process is out of descriptors (EMFILE/ENFILE) the pending connection would
// stay queued, no new edge would ever come, and the listener would be wedged; so, as libuv
// and muduo do, it keeps one spare descriptor, frees it to accept and close the pending
// connection at once, and takes it back.
#pragma once

#include <cstdint>

#include "core/event_loop.hpp"
#include "core/socket.hpp"
#include "core/unique_fd.hpp"

namespace epollchat {

class ListenerHandler {
 public:
  // A new non-blocking, CLOEXEC connection; the handler takes ownership.
  virtual void on_accepted(UniqueFd connection) = 0;
  // A connection was refused for lack of descriptors or memory (errno given); the
  // listener keeps going.
  virtual void on_accept_error(int error) = 0;

 protected:
  ~ListenerHandler() = default;
};

class Listener final : public Watcher {
 public:
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

  EventLoop& loop_;
  UniqueFd fd_;
  UniqueFd reserve_;
  ListenerHandler& handler_;
  SocketAddress address_;
};

}  // namespace epollchat
