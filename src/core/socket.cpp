#include "core/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace epollchat {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Lets bind() take an address no interface has (yet). IPV6_FREEBIND (Linux 4.15) is the
// IPv6 spelling; before it, IP_FREEBIND set the same flag on an IPv6 socket.
void set_freebind(int fd, int family) {
  const int on = 1;
#ifdef IPV6_FREEBIND
  if (family == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof on) != 0) {
      throw_errno("setsockopt(IPV6_FREEBIND)");
    }
    return;
  }
#endif
  (void)family;
  if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof on) != 0) {
    throw_errno("setsockopt(IP_FREEBIND)");
  }
}

}  // namespace

std::optional<SocketAddress> SocketAddress::from_numeric(std::string_view host,
                                                         std::uint16_t port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  SocketAddress address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage_);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address.size_ = sizeof(sockaddr_in);
    return address;
  }
  address.storage_ = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage_);
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address.size_ = sizeof(sockaddr_in6);
    return address;
  }
  return std::nullopt;
}

SocketAddress SocketAddress::local_of(int fd) {
  SocketAddress address;
  if (getsockname(fd, address.data(), &address.size_) != 0) throw_errno("getsockname");
  return address;
}

SocketAddress SocketAddress::peer_of(int fd) {
  SocketAddress address;
  if (getpeername(fd, address.data(), &address.size_) != 0) throw_errno("getpeername");
  return address;
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

bool SocketAddress::is_wildcard() const noexcept {
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (family() == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
  }
  return false;
}

std::string SocketAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text,
              sizeof text);
    return std::string(text) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
              sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(port());
  }
  return "(unknown address family " + std::to_string(family()) + ")";
}

UniqueFd listen_tcp(const SocketAddress& address, int backlog) {
  UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  const int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
    throw_errno("setsockopt(SO_REUSEADDR)");
  }
  // The wildcard is always bindable and needs no freebind.
  if (!address.is_wildcard()) set_freebind(fd.get(), address.family());
  if (bind(fd.get(), address.data(), address.size()) != 0) throw_errno("bind");
  if (listen(fd.get(), backlog) != 0) throw_errno("listen");
  return fd;
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno("fcntl(F_GETFL)");
  if ((flags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    throw_errno("fcntl(F_SETFL)");
  }
}

void set_tcp_nodelay(int fd) noexcept {
  // Best effort: a socket that refuses it still works, only with Nagle's delays.
  const int on = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

}  // namespace epollchat
