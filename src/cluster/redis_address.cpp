#include "cluster/redis_address.hpp"

#include <charconv>
#include <system_error>

#include "core/socket.hpp"

namespace epollchat::cluster {

std::optional<RedisAddress> RedisAddress::parse(std::string_view text) {
  RedisAddress address;
  if (!text.empty() && text.front() == '/') {
    // sockaddr_un's sun_path holds 108 bytes with the terminating NUL.
    if (text.size() > 107) return std::nullopt;
    address.unix_path = std::string(text);
    return address;
  }
  std::string_view host = text;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    // Brackets are for IPv6 literals only.
    if (host.find(':') == std::string_view::npos) return std::nullopt;
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty()) return std::nullopt;
  }
  if (host == "localhost") host = "127.0.0.1";
  // Unbracketed text was split at its first colon, so an IPv6 literal without brackets
  // leaves an empty or malformed host here.
  if (host.empty()) return std::nullopt;
  if (!SocketAddress::from_numeric(host, 0)) return std::nullopt;
  address.host = std::string(host);
  address.port = kDefaultPort;
  if (!port.empty()) {
    unsigned value = 0;
    const char* end = port.data() + port.size();
    const auto [rest, error] = std::from_chars(port.data(), end, value);
    if (error != std::errc() || rest != end || value == 0 || value > 65535) return std::nullopt;
    address.port = static_cast<std::uint16_t>(value);
  }
  return address;
}

std::string RedisAddress::to_string() const {
  if (!unix_path.empty()) return unix_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace epollchat::cluster
