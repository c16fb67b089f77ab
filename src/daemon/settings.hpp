// Settings: everything epollchatd can be told by its command line and config file.
//
// Each setting is described once, by a row of the table setting_specs() returns: its key
// (the config key and, after "--", the long option), its line in --help, its default, its
// bounds and how its value is read and stored. The config file, the command line, --help,
// a fresh Settings and the messages for refused values all come from that row, so they
// accept the same values and cannot disagree.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chat/server_limits.hpp"
#include "core/address_range.hpp"
#include "core/log.hpp"

namespace epollchat::daemon {

struct Settings {
  // Every setting at its default from the table; the settings without one ("" there) are
  // empty strings.
  Settings();

  std::string listen;
  std::uint16_t port{};
  std::size_t max_clients{};
  std::size_t max_line{};
  std::size_t max_backlog{};
  std::size_t max_rate{};               // lines per second per client; 0: unlimited
  std::chrono::seconds line_timeout{};  // how long an incomplete line may wait; 0: forever
  std::size_t history{};                // chat lines each room keeps; 0: none
  LogLevel log_level{};
  std::string redis;                // "" (no link), "HOST:PORT" as given, or a unix socket path
  std::string node_id;              // "" unless set: the Server then picks a random one
  std::string redis_user;           // "" (Redis's default user) or an ACL user name
  std::string redis_password_file;  // "" or an absolute path
  // Not a key: read by load_settings() from redis_password_file or the systemd credential.
  std::string redis_password;
  // The TLS listener's port on the listen address (0: the kernel chooses); none: no TLS
  // listener unless systemd passes one.
  std::optional<std::uint16_t> tls_port;
  std::string tls_cert_file;  // "" or a path: the certificate chain, PEM
  std::string tls_key_file;   // "" or a path: the private key, PEM
  // The peers that may connect to either listener; unset: kDefaultAllowed on the plain
  // listener and every address on the TLS listener.
  std::optional<AddressRanges> allow;

  // The allow list of the plain listener when `allow` is unset: loopback, link-local, the
  // private ranges of RFC 1918 and RFC 4193 (ULA), and the shared space of RFC 6598 that
  // carrier-grade NAT and overlay networks such as Tailscale use. The protocol has neither
  // authentication nor encryption, so serving the Internet in clear text is a deliberate act;
  // TLS at least hides the chat on the way, so its listener admits everyone unless told.
  static constexpr std::string_view kDefaultAllowed =
      "127.0.0.0/8 ::1 169.254.0.0/16 fe80::/10 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 "
      "fc00::/7 100.64.0.0/10";

  // What the chat service is given of these.
  [[nodiscard]] chat::ServerLimits server_limits() const;

  bool operator==(const Settings&) const = default;
};

// One setting, as the config file, the command line and --help know it.
struct SettingSpec {
  // The config key; "--" followed by the key is the long option.
  std::string_view key;
  // The value's name in --help: "--max-line BYTES".
  std::string_view value_name;
  // The description beside the option in --help. "{default}" stands for default_value;
  // each '\n' starts another line.
  std::string_view help;
  // The value of a fresh Settings, written as in a config file; "" leaves it unset (empty).
  std::string_view default_value = {};
  // A refused value is reported as "invalid <what> '<value>' (expected <expected>)". An
  // empty `what` is "value for <key>"; a number's <expected> is its bounds, "<min>-<max>".
  std::string_view what = {};
  std::string_view expected = {};

  // A number: decimal digits only, from `min` to `max`, handed to store_number.
  std::size_t min = 0;
  std::size_t max = 0;
  void (*store_number)(Settings& settings, std::size_t value) = nullptr;
  // Any other value: store_text checks it and stores it, or returns false and leaves the
  // settings as they were.
  bool (*store_text)(Settings& settings, std::string_view value) = nullptr;
  // For a list: the part of a refused value that the refusal names (the first bad entry)
  // instead of the whole value.
  std::string_view (*refused_part)(std::string_view value) = nullptr;

  [[nodiscard]] bool is_number() const noexcept { return store_number != nullptr; }
};

// Every setting, in the order --help lists them.
[[nodiscard]] std::span<const SettingSpec> setting_specs() noexcept;

// The setting whose key is `key`, or nullptr.
[[nodiscard]] const SettingSpec* find_setting(std::string_view key) noexcept;

// The spec's help with its default filled in.
[[nodiscard]] std::string setting_help(const SettingSpec& spec);

// What the setting accepts, for an error message: "0-65535", "an absolute path".
[[nodiscard]] std::string expected_values(const SettingSpec& spec);

// Parses `value` into `settings`. Returns the problem ("invalid port '99999' (expected
// 0-65535)") or nullopt; a refused value changes nothing.
[[nodiscard]] std::optional<std::string> apply_setting(Settings& settings, const SettingSpec& spec,
                                                       std::string_view value);
// The same by key; an unknown key is a problem too ("unknown key 'colour'").
[[nodiscard]] std::optional<std::string> apply_setting(Settings& settings, std::string_view key,
                                                       std::string_view value);

// Checks that hold between keys; the problem, or nullopt.
[[nodiscard]] std::optional<std::string> check_consistency(const Settings& settings);

}  // namespace epollchat::daemon
