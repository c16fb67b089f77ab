// Loopback addressing for tests: socket addresses from literals, listening sockets that
// hold a port, and picking a currently unused port.
//
// Owns: nothing beyond the UniqueFd it returns.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "core/unique_fd.hpp"

namespace epollchat::test {

// An IPv4 or IPv6 socket address.
class SocketAddress {
 public:
  [[nodiscard]] int family() const { return storage_.ss_family; }
  [[nodiscard]] const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  [[nodiscard]] socklen_t length() const { return length_; }

 private:
  friend SocketAddress loopback_address(const std::string& host, std::uint16_t port);
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

// Parses an IPv4 or IPv6 literal ("127.0.0.1", "::1"). Throws std::invalid_argument.
SocketAddress loopback_address(const std::string& host, std::uint16_t port);

// The local port a socket is bound to.
std::uint16_t local_port(int fd);

// A listening TCP socket on host:port (port 0: the kernel picks). Throws std::system_error.
UniqueFd listen_on(const std::string& host, std::uint16_t port = 0);

// A port that was free a moment ago (bound to port 0, read back, closed). Another process may
// take it before the test does: callers retry on EADDRINUSE.
std::uint16_t pick_unused_port(const std::string& host = "127.0.0.1");

}  // namespace epollchat::test
