// PendingOutput: what a simulated client has queued to send but its socket has not taken
// yet, written without blocking, so one thread can drive hundreds of clients.
//
// Owns: the unsent bytes. Never: owns or closes the socket it writes to.
// Lifetime: a plain value, one per connection; clear() when the connection changes.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace epollchat::test {

enum class SendOutcome {
  all_sent,
  would_block,  // the socket is full: wait for POLLOUT
  peer_gone,    // EPIPE or ECONNRESET: the server closed the connection
};

class PendingOutput {
 public:
  [[nodiscard]] bool is_empty() const { return offset_ == bytes_.size(); }
  [[nodiscard]] std::size_t size() const { return bytes_.size() - offset_; }
  void append(std::string_view bytes) { bytes_.append(bytes); }
  void clear() {
    bytes_.clear();
    offset_ = 0;
  }

  // Sends as much as the socket takes now, adding what went out to `sent`. Throws
  // std::system_error on an error other than the peer's going away.
  SendOutcome send_to(int fd, std::uint64_t& sent) {
    while (!is_empty()) {
      const ssize_t n = ::send(fd, bytes_.data() + offset_, size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        offset_ += static_cast<std::size_t>(n);
        sent += static_cast<std::uint64_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return SendOutcome::would_block;
      if (errno == EPIPE || errno == ECONNRESET) return SendOutcome::peer_gone;
      throw std::system_error(errno, std::generic_category(), "send");
    }
    clear();
    return SendOutcome::all_sent;
  }

 private:
  std::string bytes_;
  std::size_t offset_ = 0;  // bytes_ before it were sent
};

}  // namespace epollchat::test
