#include "support/loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace epollchat::test {

SocketAddress loopback_address(const std::string& host, std::uint16_t port) {
  SocketAddress address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage_);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address.length_ = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address.length_ = sizeof(sockaddr_in6);
  } else {
    throw std::invalid_argument("not an IPv4 or IPv6 literal: " + host);
  }
  return address;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    throw std::system_error(errno, std::generic_category(), "getsockname");
  }
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

UniqueFd listen_on(const std::string& host, std::uint16_t port) {
  const auto address = loopback_address(host, port);
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
  if (::bind(fd.get(), address.get(), address.length()) != 0) {
    throw std::system_error(errno, std::generic_category(), "bind " + host);
  }
  if (::listen(fd.get(), 16) != 0)
    throw std::system_error(errno, std::generic_category(), "listen");
  return fd;
}

std::uint16_t pick_unused_port(const std::string& host) {
  const UniqueFd fd = listen_on(host, 0);
  return local_port(fd.get());
}

}  // namespace epollchat::test
