// NotifyDrain: keeps reading a daemon's sd_notify datagrams on a thread of its own.
//
// The daemon reports STATUS= about once a second while clients come, go and chat, and its
// sd_notify() blocks once ten datagrams wait unread (net.unix.max_dgram_qlen): a test that
// keeps the daemon busy for longer than that, without waiting on its notify socket itself,
// must keep draining it, or the daemon stops.
// Owns: the thread. Never: touches the socket from the test's thread meanwhile (the test
// must not use the NotifySocket while the drain runs).
// Lifetime: the destructor stops and joins the thread; the socket must outlive the object.
#pragma once

#include <atomic>
#include <thread>

#include "support/deadline.hpp"
#include "support/notify_socket.hpp"

namespace epollchat::test {

class NotifyDrain {
 public:
  explicit NotifyDrain(NotifySocket& socket)
      : thread_([this, &socket] {
          while (!stop_) (void)socket.receive(100ms);
        }) {}
  NotifyDrain(const NotifyDrain&) = delete;
  NotifyDrain& operator=(const NotifyDrain&) = delete;
  ~NotifyDrain() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_ = false;
  std::thread thread_;
};

}  // namespace epollchat::test
