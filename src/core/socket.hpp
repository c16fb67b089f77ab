// Socket plumbing shared by the daemon, the client and the tests: addresses, listening
// sockets, descriptor flags.
//
// Setup failures throw std::system_error with the failing call named; nothing here logs.
// Every descriptor returned is owned by the returned UniqueFd and is CLOEXEC.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace epollchat {

// An IPv4 or IPv6 socket address.
class SocketAddress {
 public:
  SocketAddress() noexcept = default;

  // A numeric IPv4 ("127.0.0.1") or IPv6 ("::1", "::", optionally in brackets) literal;
  // nullopt when `host` is neither.
  static std::optional<SocketAddress> from_numeric(std::string_view host, std::uint16_t port);
  // The local or peer address of a socket; throws std::system_error.
  static SocketAddress local_of(int fd);
  static SocketAddress peer_of(int fd);

  [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
  [[nodiscard]] std::uint16_t port() const noexcept;
  // 0.0.0.0 or ::, the addresses that mean "every local address".
  [[nodiscard]] bool is_wildcard() const noexcept;
  // "127.0.0.1:8888" or "[::1]:8888".
  [[nodiscard]] std::string to_string() const;

  [[nodiscard]] const sockaddr* data() const noexcept {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  [[nodiscard]] sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  [[nodiscard]] socklen_t size() const noexcept { return size_; }
  void set_size(socklen_t size) noexcept { size_ = size; }

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = sizeof(sockaddr_storage);
};

// A non-blocking, CLOEXEC TCP socket bound to `address` and listening. SO_REUSEADDR is
// set so a restart does not wait out TIME_WAIT; an IPv6 wildcard also accepts IPv4 only if
// the system's default (net.ipv6.bindv6only) says so. A specific address is bound with
// IP_FREEBIND (IPV6_FREEBIND), so it may be one that no interface has yet: at boot an
// address configured late (DHCP, IPv6 DAD) starts being served when it appears, instead of
// failing the bind with EADDRNOTAVAIL. Needs no privilege.
UniqueFd listen_tcp(const SocketAddress& address, int backlog);

// fcntl(F_GETFL/F_SETFL); the tutorial passed F_GETFD here and cleared the flags instead.
void set_nonblocking(int fd);
// Chat lines are small and latency matters more than segment count.
void set_tcp_nodelay(int fd) noexcept;

}  // namespace epollchat
