// Settings: everything epollchatd can be told by its command line and config file, and
// the one table that parses and checks each key, so both sources accept exactly the same
// values with the same messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chat/server_limits.hpp"
#include "core/log.hpp"

namespace epollchat::daemon {

struct Settings {
  std::string listen = "127.0.0.1";
  std::uint16_t port = 8888;
  std::size_t max_clients = 1024;
  std::size_t max_line = 4096;
  std::size_t max_backlog = 1024 * 1024;
  std::size_t max_rate = 10'000;          // lines per second per client; 0: unlimited
  std::chrono::seconds line_timeout{60};  // how long an incomplete line may wait; 0: forever
  LogLevel log_level = LogLevel::info;
  std::string redis;                // "" (no link), "HOST:PORT" as given, or a unix socket path
  std::string node_id;              // "" unless set: the Server then picks a random one
  std::string redis_user;           // "" (Redis's default user) or an ACL user name
  std::string redis_password_file;  // "" or an absolute path
  // Not a key: read by load_settings() from redis_password_file or the systemd credential.
  std::string redis_password;

  // What the chat service is given of these.
  [[nodiscard]] chat::ServerLimits server_limits() const;
};

// The keys, as config keys and (with "--") long options.
inline constexpr std::string_view kSettingKeys[] = {
    "listen",       "port",      "max-clients", "max-line", "max-backlog", "max-rate",
    "line-timeout", "log-level", "redis",       "node-id",  "redis-user",  "redis-password-file",
};

[[nodiscard]] bool is_setting_key(std::string_view key) noexcept;

// Parses `value` for `key` into `settings`. Returns the problem ("invalid port '99999'
// (expected 0-65535)") or nullopt. `key` must satisfy is_setting_key().
[[nodiscard]] std::optional<std::string> apply_setting(Settings& settings, std::string_view key,
                                                       std::string_view value);

// Checks that hold between keys; the problem, or nullopt.
[[nodiscard]] std::optional<std::string> check_consistency(const Settings& settings);

}  // namespace epollchat::daemon
