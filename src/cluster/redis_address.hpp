// RedisAddress: where the Redis server that links the nodes listens, as the `redis` setting
// gives it: "HOST:PORT" (IPv4 literal, "localhost" or "[IPv6]"; the port defaults to 6379)
// or the absolute path of a unix socket.
//
// Host names other than "localhost" are refused on purpose: resolving one means DNS, which
// would block the event loop on every reconnect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epollchat::cluster {

struct RedisAddress {
  std::string host;  // numeric, without brackets; empty for a unix socket
  std::uint16_t port = 0;
  std::string unix_path;  // empty for TCP

  static constexpr std::uint16_t kDefaultPort = 6379;

  [[nodiscard]] static std::optional<RedisAddress> parse(std::string_view text);
  // "127.0.0.1:6379", "[::1]:6379" or the socket path.
  [[nodiscard]] std::string to_string() const;
};

}  // namespace epollchat::cluster
