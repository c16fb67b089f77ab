// PendingOutput: bytes a test client has queued to send that its socket has not taken yet,
// written without blocking, so one thread can drive many clients and a test can tell when
// the server stops reading one (its socket stays full).
//
// Owns: the unsent bytes. Never: owns or closes the socket it writes to (the fd is passed to
// each call, so a client that reconnects keeps its PendingOutput and clear()s it).
// Header-only: each test executable compiles it with its own gtest.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "support/deadline.hpp"

namespace epollchat::test {

enum class SendOutcome {
  all_sent,
  would_block,  // the socket is full: wait for POLLOUT
  peer_gone,    // EPIPE or ECONNRESET: the server closed the connection
};

// Whether `fd` has room to write within `timeout`.
[[nodiscard]] inline bool wait_writable(int fd, std::chrono::milliseconds timeout) {
  pollfd entry{fd, POLLOUT, 0};
  return ::poll(&entry, 1, static_cast<int>(timeout.count())) > 0;
}

class PendingOutput {
 public:
  [[nodiscard]] bool is_empty() const { return offset_ == bytes_.size(); }
  [[nodiscard]] std::size_t size() const { return bytes_.size() - offset_; }
  void append(std::string_view bytes) { bytes_.append(bytes); }
  void clear() {
    bytes_.clear();
    offset_ = 0;
  }

  // Sends as much as `fd` takes now, adding what went out to `sent`. Throws
  // std::system_error on an error other than the peer's going away.
  SendOutcome send_to(int fd, std::uint64_t& sent) {
    SendOutcome outcome = SendOutcome::all_sent;
    while (!is_empty()) {
      const ssize_t n = ::send(fd, bytes_.data() + offset_, size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        offset_ += static_cast<std::size_t>(n);
        sent += static_cast<std::uint64_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        outcome = SendOutcome::would_block;
        break;
      }
      if (errno == EPIPE || errno == ECONNRESET) return SendOutcome::peer_gone;
      throw std::system_error(errno, std::generic_category(), "send");
    }
    // What was sent is dropped now and then, so a long flood does not keep it all.
    if (is_empty() || offset_ > kCompactAbove) {
      bytes_.erase(0, offset_);
      offset_ = 0;
    }
    return outcome;
  }
  SendOutcome send_to(int fd) {
    std::uint64_t ignored = 0;
    return send_to(fd, ignored);
  }

  // Sends everything, waiting for room as needed. False if some is still unsent at the
  // deadline or the peer has gone.
  bool send_all(int fd, const Deadline& deadline) {
    for (;;) {
      const SendOutcome outcome = send_to(fd);
      if (outcome == SendOutcome::all_sent) return true;
      if (outcome == SendOutcome::peer_gone || deadline.has_expired()) return false;
      (void)wait_writable(fd, std::min<std::chrono::milliseconds>(deadline.remaining(), 100ms));
    }
  }

 private:
  static constexpr std::size_t kCompactAbove = 1024 * 1024;

  std::string bytes_;
  std::size_t offset_ = 0;  // bytes_ before it were sent
};

}  // namespace epollchat::test
