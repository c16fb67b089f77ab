// Signals: SIGTERM, SIGINT and SIGHUP delivered through a signalfd watched by the loop, so
// they are handled between events like any other input, never in a signal handler.
//
// Owns: the signalfd. The constructor blocks the signals for the process (before any
// other thread exists) and ignores SIGPIPE: a peer that vanishes mid-write is a
// CloseReason, not a process death.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>

#include "core/event_loop.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::daemon {

class Signals final : public Watcher {
 public:
  // Throws std::system_error.
  Signals(EventLoop& loop, std::function<void(int signal)> on_signal);
  ~Signals();
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

  void on_events(std::uint32_t events) override;

 private:
  EventLoop& loop_;
  UniqueFd fd_;
  std::function<void(int)> on_signal_;
};

}  // namespace epollchat::daemon
