#include "client/server_address.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace epollchat::client {
namespace {

struct AddrinfoDeleter {
  void operator()(addrinfo* list) const noexcept { freeaddrinfo(list); }
};
using AddrinfoList = std::unique_ptr<addrinfo, AddrinfoDeleter>;

// Connects one socket to one resolved address; returns it, or an invalid fd with errno set.
UniqueFd try_connect(const addrinfo& candidate, std::optional<std::chrono::milliseconds> timeout) {
  const int nonblocking = timeout ? SOCK_NONBLOCK : 0;
  UniqueFd fd(::socket(candidate.ai_family, candidate.ai_socktype | SOCK_CLOEXEC | nonblocking,
                       candidate.ai_protocol));
  if (!fd) return fd;
  if (timeout) {
    if (::connect(fd.get(), candidate.ai_addr, candidate.ai_addrlen) == 0) return fd;
    int error = errno;
    if (error == EINPROGRESS) {
      pollfd connecting{fd.get(), POLLOUT, 0};
      int ready = 0;
      do {
        ready = ::poll(&connecting, 1, static_cast<int>(timeout->count()));
      } while (ready < 0 && errno == EINTR);
      error = ready == 0 ? ETIMEDOUT : 0;
      socklen_t length = sizeof error;
      if (ready > 0 && ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
      if (ready < 0) error = errno;
    }
    if (error != 0) {
      fd.reset();
      errno = error;
    }
    return fd;
  }
  // No signal handler is installed yet, so connect() cannot fail with EINTR here (an
  // interrupted connect would go on asynchronously and need a poll to finish).
  if (::connect(fd.get(), candidate.ai_addr, candidate.ai_addrlen) != 0) {
    const int saved = errno;
    fd.reset();
    errno = saved;
  }
  return fd;
}

}  // namespace

std::string ServerAddress::to_string() const {
  const bool is_ipv6_literal = host.find(':') != std::string::npos;
  return (is_ipv6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const char* const end = text.data() + text.size();
  const auto [last, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || last != end || value == 0 || value > 65535U) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

UniqueFd connect_to(const ServerAddress& address,
                    std::optional<std::chrono::milliseconds> timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: it hides ::1 and 127.0.0.1 on hosts whose only addresses are
  // loopback ones, which is exactly where a local chat server is tried first.
  hints.ai_flags = AI_NUMERICSERV;
  const std::string service = std::to_string(address.port);

  addrinfo* raw_list = nullptr;
  const int status = ::getaddrinfo(address.host.c_str(), service.c_str(), &hints, &raw_list);
  if (status != 0) {
    const char* reason = status == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(status);
    throw ConnectError("cannot resolve '" + address.host + "': " + reason);
  }
  const AddrinfoList list(raw_list);

  int last_error = EADDRNOTAVAIL;
  for (const addrinfo* candidate = list.get(); candidate != nullptr;
       candidate = candidate->ai_next) {
    UniqueFd fd = try_connect(*candidate, timeout);
    if (fd) return fd;
    last_error = errno;
  }
  throw ConnectError("cannot connect to " + address.to_string() + ": " + std::strerror(last_error));
}

}  // namespace epollchat::client
