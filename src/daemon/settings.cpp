#include "daemon/settings.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "chat/command.hpp"
#include "cluster/redis_address.hpp"
#include "core/socket.hpp"

namespace epollchat::daemon {

chat::ServerLimits Settings::server_limits() const {
  chat::ServerLimits limits;
  limits.connection = ConnectionLimits{max_line, max_backlog, max_rate};
  limits.max_clients = max_clients;
  limits.line_timeout = line_timeout;
  return limits;
}
namespace {

// A formatted line is the text plus "Client #<id> says >> " and LF; a backlog smaller than
// one such line would cut off every recipient of a maximal line.
constexpr std::size_t kLinePrefixAllowance = 256;

std::optional<std::size_t> parse_count(std::string_view text, std::size_t min, std::size_t max) {
  std::size_t value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || rest != end || value < min || value > max) return std::nullopt;
  return value;
}

std::string invalid(std::string_view what, std::string_view value, std::string_view expected) {
  return "invalid " + std::string(what) + " '" + std::string(value) + "' (expected " +
         std::string(expected) + ")";
}

std::optional<std::string> apply_count(std::size_t& target, std::string_view key,
                                       std::string_view value, std::size_t min, std::size_t max) {
  const auto parsed = parse_count(value, min, max);
  if (!parsed) {
    return invalid("value for " + std::string(key), value,
                   std::to_string(min) + "-" + std::to_string(max));
  }
  target = *parsed;
  return std::nullopt;
}

}  // namespace

bool is_setting_key(std::string_view key) noexcept {
  return std::find(std::begin(kSettingKeys), std::end(kSettingKeys), key) != std::end(kSettingKeys);
}

std::optional<std::string> apply_setting(Settings& settings, std::string_view key,
                                         std::string_view value) {
  if (key == "listen") {
    if (!SocketAddress::from_numeric(value, 0)) {
      return invalid("listen address", value, "an IPv4 or IPv6 address such as 127.0.0.1 or ::1");
    }
    settings.listen = std::string(value);
    return std::nullopt;
  }
  if (key == "port") {
    const auto port = parse_count(value, 0, std::numeric_limits<std::uint16_t>::max());
    if (!port) return invalid("port", value, "0-65535");
    settings.port = static_cast<std::uint16_t>(*port);
    return std::nullopt;
  }
  if (key == "max-clients") return apply_count(settings.max_clients, key, value, 1, 1'000'000);
  if (key == "max-line") return apply_count(settings.max_line, key, value, 1, 16 * 1024 * 1024);
  if (key == "max-backlog") {
    return apply_count(settings.max_backlog, key, value, 1024, std::size_t{1} << 30);
  }
  if (key == "max-rate") return apply_count(settings.max_rate, key, value, 0, 100'000'000);
  if (key == "line-timeout") {
    std::size_t seconds = 0;
    if (auto problem = apply_count(seconds, key, value, 0, 86'400)) return problem;
    settings.line_timeout = std::chrono::seconds(seconds);
    return std::nullopt;
  }
  if (key == "log-level") {
    const auto level = parse_log_level(value);
    if (!level)
      return invalid("log level", value, "emerg, alert, crit, err, warning, notice, info or debug");
    settings.log_level = *level;
    return std::nullopt;
  }
  if (key == "redis") {
    if (!value.empty() && !cluster::RedisAddress::parse(value)) {
      return invalid("redis address", value, "HOST:PORT or /path/to/socket");
    }
    settings.redis = std::string(value);
    return std::nullopt;
  }
  if (key == "redis-user") {
    // Redis ACL user names are any bytes but spaces; printable ASCII keeps logs readable.
    const bool printable =
        std::all_of(value.begin(), value.end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (value.size() > 64 || !printable) {
      return invalid("redis user", value, "up to 64 printable characters, no spaces");
    }
    settings.redis_user = std::string(value);
    return std::nullopt;
  }
  if (key == "redis-password-file") {
    if (!value.empty() && !value.starts_with('/')) {
      return invalid("redis password file", value, "an absolute path");
    }
    settings.redis_password_file = std::string(value);
    return std::nullopt;
  }
  if (key == "node-id") {
    if (!chat::is_valid_node_id(value)) return invalid("node id", value, "1-8 of a-z, 0-9");
    settings.node_id = std::string(value);
    return std::nullopt;
  }
  return "unknown key '" + std::string(key) + "'";
}

std::optional<std::string> check_consistency(const Settings& settings) {
  if (settings.max_backlog < settings.max_line + kLinePrefixAllowance) {
    return "max-backlog (" + std::to_string(settings.max_backlog) +
           ") must be at least max-line (" + std::to_string(settings.max_line) + ") + " +
           std::to_string(kLinePrefixAllowance);
  }
  return std::nullopt;
}

}  // namespace epollchat::daemon
