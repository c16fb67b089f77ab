// ServerAddress: where the client connects, and connecting there.
//
// Owns: a host (name or numeric literal) and a port. Never logs; failures are a
// ConnectError carrying the message main prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace epollchat::client {

struct ServerAddress {
  std::string host;  // As given, without IPv6 brackets: "127.0.0.1", "::1", "chat.example".
  std::uint16_t port = 0;

  // "127.0.0.1:8888", "[::1]:8888" or "chat.example:8888": how messages name the server.
  [[nodiscard]] std::string to_string() const;
};

// A decimal port 1..65535, or nullopt.
[[nodiscard]] std::optional<std::uint16_t> parse_port(std::string_view text);

// The connection could not be made; what() is the whole message after "epollchat: ",
// e.g. "cannot connect to 127.0.0.1:8888: Connection refused".
class ConnectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Resolves `address` with getaddrinfo (IPv4 and IPv6, numeric port) and tries every
// result in order, returning the first connected socket (CLOEXEC). When all fail, the
// ConnectError reports the last attempt's error. Without `timeout` each connect() blocks
// as long as the kernel lets it; with one, an attempt that takes longer fails with
// ETIMEDOUT, so a reconnecting client stays responsive while a network is down.
[[nodiscard]] UniqueFd connect_to(const ServerAddress& address,
                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);

}  // namespace epollchat::client
