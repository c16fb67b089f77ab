#include "daemon/settings.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <limits>

#include "chat/names.hpp"
#include "chat/room_history.hpp"
#include "cluster/redis_address.hpp"
#include "core/socket.hpp"

namespace epollchat::daemon {
namespace {

// A formatted line is the text plus "Client #<id> says >> " and LF; a backlog smaller than
// one such line would cut off every recipient of a maximal line.
constexpr std::size_t kLinePrefixAllowance = 256;

std::optional<std::size_t> parse_number(std::string_view text, std::size_t min, std::size_t max);

// Stores `value` in `field` if it is `valid`; says whether it did.
bool store_if(bool valid, std::string& field, std::string_view value) {
  if (valid) field = value;
  return valid;
}

bool store_listen(Settings& settings, std::string_view value) {
  return store_if(SocketAddress::from_numeric(value, 0).has_value(), settings.listen, value);
}

bool store_log_level(Settings& settings, std::string_view value) {
  const auto level = parse_log_level(value);
  if (level) settings.log_level = *level;
  return level.has_value();
}

bool store_redis(Settings& settings, std::string_view value) {
  // "" is no link, as if the key were not there.
  return store_if(value.empty() || cluster::RedisAddress::parse(value), settings.redis, value);
}

bool store_node_id(Settings& settings, std::string_view value) {
  return store_if(chat::is_valid_node_id(value), settings.node_id, value);
}

bool store_redis_user(Settings& settings, std::string_view value) {
  // Redis ACL user names are any bytes but spaces; printable ASCII keeps logs readable.
  const bool printable =
      std::all_of(value.begin(), value.end(), [](char c) { return c > ' ' && c < 0x7f; });
  return store_if(value.size() <= 64 && printable, settings.redis_user, value);
}

// "" (unset) or an absolute path: the daemon's working directory is not the user's.
bool store_path(std::string& field, std::string_view value) {
  return store_if(value.empty() || value.starts_with('/'), field, value);
}

bool store_redis_password_file(Settings& settings, std::string_view value) {
  return store_path(settings.redis_password_file, value);
}

bool store_tls_port(Settings& settings, std::string_view value) {
  if (value.empty()) {
    settings.tls_port.reset();
    return true;
  }
  const auto port = parse_number(value, 0, std::numeric_limits<std::uint16_t>::max());
  if (port) settings.tls_port = static_cast<std::uint16_t>(*port);
  return port.has_value();
}

bool store_allow(Settings& settings, std::string_view value) {
  auto ranges = AddressRanges::parse(value);
  if (ranges) settings.allow = std::move(*ranges);
  return ranges.has_value();
}

std::string_view refused_address_range(std::string_view value) {
  std::string_view refused = value;
  (void)AddressRanges::parse(value, &refused);
  return refused;
}

// The settings. Their order is --help's.
constexpr SettingSpec kSettingSpecs[] = {
    {.key = "listen",
     .value_name = "ADDR",
     .help = "address to listen on (default {default}; ::1 and :: work)",
     .default_value = "127.0.0.1",
     .what = "listen address",
     .expected = "an IPv4 or IPv6 address such as 127.0.0.1 or ::1",
     .store_text = store_listen},
    {.key = "port",
     .value_name = "N",
     .help = "TCP port (default {default}; 0 lets the kernel choose)",
     .default_value = "8888",
     .what = "port",
     .min = 0,
     .max = std::numeric_limits<std::uint16_t>::max(),
     .store_number = [](Settings& s, std::size_t n) { s.port = static_cast<std::uint16_t>(n); }},
    {.key = "max-clients",
     .value_name = "N",
     .help = "clients served at once (default {default})",
     .default_value = "1024",
     .min = 1,
     .max = 1'000'000,
     .store_number = [](Settings& s, std::size_t n) { s.max_clients = n; }},
    {.key = "max-line",
     .value_name = "BYTES",
     .help = "longest accepted line (default {default})",
     .default_value = "4096",
     .min = 1,
     .max = 16 * 1024 * 1024,
     .store_number = [](Settings& s, std::size_t n) { s.max_line = n; }},
    {.key = "max-backlog",
     .value_name = "BYTES",
     .help = "unsent output per client before it is cut off\n"
             "(default {default})",
     .default_value = "1048576",
     .min = 1024,
     .max = std::size_t{1} << 30,
     .store_number = [](Settings& s, std::size_t n) { s.max_backlog = n; }},
    {.key = "max-rate",
     .value_name = "LINES",
     .help = "lines per second per client before reading slows down\n"
             "(default {default}; 0: unlimited)",
     .default_value = "10000",
     .min = 0,
     .max = 100'000'000,
     .store_number = [](Settings& s, std::size_t n) { s.max_rate = n; }},
    {.key = "line-timeout",
     .value_name = "SECS",
     .help = "disconnect a client whose incomplete line waits longer\n"
             "(default {default}; 0: never)",
     .default_value = "60",
     .min = 0,
     .max = 86'400,
     .store_number = [](Settings& s, std::size_t n) { s.line_timeout = std::chrono::seconds(n); }},
    {.key = "history",
     .value_name = "N",
     .help = "chat lines each room keeps for clients that join it\n"
             "(default {default}; 0: none)",
     .default_value = "20",
     .min = 0,
     .max = chat::RoomHistory::kMaxLines,
     .store_number = [](Settings& s, std::size_t n) { s.history = n; }},
    {.key = "log-level",
     .value_name = "LEVEL",
     .help = "emerg, alert, crit, err, warning, notice, info, debug\n"
             "(default {default})",
     .default_value = "info",
     .what = "log level",
     .expected = "emerg, alert, crit, err, warning, notice, info or debug",
     .store_text = store_log_level},
    {.key = "redis",
     .value_name = "ADDR",
     .help = "share rooms with other nodes through Redis at\n"
             "HOST:PORT or /path/to/socket (default: off)",
     .what = "redis address",
     .expected = "HOST:PORT or /path/to/socket",
     .store_text = store_redis},
    {.key = "node-id",
     .value_name = "ID",
     .help = "this node's id in client ids with --redis\n"
             "(1-8 of a-z, 0-9; default: random)",
     .what = "node id",
     .expected = "1-8 of a-z, 0-9",
     .store_text = store_node_id},
    {.key = "redis-user",
     .value_name = "NAME",
     .help = "log in to Redis as this ACL user (default: default)",
     .what = "redis user",
     .expected = "up to 64 printable characters, no spaces",
     .store_text = store_redis_user},
    {.key = "redis-password-file",
     .value_name = "FILE",
     .help = "Redis's password is the first line of FILE (default:\n"
             "the systemd credential redis-password, else none)",
     .what = "redis password file",
     .expected = "an absolute path",
     .store_text = store_redis_password_file},
    {.key = "tls-port",
     .value_name = "N",
     .help = "also serve TLS clients on this port of the listen\n"
             "address (default: off; 0 lets the kernel choose)",
     .what = "TLS port",
     .expected = "0-65535, or empty for none",
     .store_text = store_tls_port},
    {.key = "tls-cert",
     .value_name = "FILE",
     .help = "TLS certificate chain, PEM (default: the systemd\n"
             "credential tls-cert)",
     .what = "TLS certificate file",
     .expected = "an absolute path",
     .store_text = [](Settings& s,
                      std::string_view value) { return store_path(s.tls_cert_file, value); }},
    {.key = "tls-key",
     .value_name = "FILE",
     .help = "TLS private key, PEM (default: the systemd\n"
             "credential tls-key)",
     .what = "TLS key file",
     .expected = "an absolute path",
     .store_text = [](Settings& s,
                      std::string_view value) { return store_path(s.tls_key_file, value); }},
    {.key = "allow",
     .value_name = "LIST",
     .help = "peers that may connect: addresses and CIDR ranges\n"
             "such as 10.0.0.0/8 or fc00::/7, separated by commas\n"
             "or spaces, or any (default: loopback, link-local,\n"
             "private and ULA ranges, 100.64.0.0/10; TLS: any)",
     .what = "address range",
     .expected = "an address or CIDR range such as 10.0.0.0/8 or fc00::/7, or any",
     .store_text = store_allow,
     .refused_part = refused_address_range},
};

std::optional<std::size_t> parse_number(std::string_view text, std::size_t min, std::size_t max) {
  std::size_t value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || rest != end || value < min || value > max) return std::nullopt;
  return value;
}

std::string refusal(const SettingSpec& spec, std::string_view value) {
  if (spec.refused_part != nullptr) value = spec.refused_part(value);
  const std::string what =
      spec.what.empty() ? "value for " + std::string(spec.key) : std::string(spec.what);
  return "invalid " + what + " '" + std::string(value) + "' (expected " + expected_values(spec) +
         ")";
}

}  // namespace

std::string expected_values(const SettingSpec& spec) {
  return spec.is_number() ? std::to_string(spec.min) + "-" + std::to_string(spec.max)
                          : std::string(spec.expected);
}

Settings::Settings() {
  for (const SettingSpec& spec : kSettingSpecs) {
    if (spec.default_value.empty()) continue;
    [[maybe_unused]] const auto problem = apply_setting(*this, spec, spec.default_value);
    assert(!problem && "every default passes its own checks");
  }
}

chat::ServerLimits Settings::server_limits() const {
  chat::ServerLimits limits;
  limits.connection = ConnectionLimits{max_line, max_backlog, max_rate};
  limits.max_clients = max_clients;
  limits.line_timeout = line_timeout;
  limits.history = history;
  if (allow) {
    limits.allowed = *allow;
    limits.tls_allowed = *allow;
  } else {
    limits.allowed = *AddressRanges::parse(kDefaultAllowed);
    limits.tls_allowed = AddressRanges::any();
  }
  return limits;
}

std::span<const SettingSpec> setting_specs() noexcept { return kSettingSpecs; }

const SettingSpec* find_setting(std::string_view key) noexcept {
  const auto found = std::find_if(std::begin(kSettingSpecs), std::end(kSettingSpecs),
                                  [key](const SettingSpec& spec) { return spec.key == key; });
  return found == std::end(kSettingSpecs) ? nullptr : found;
}

std::string setting_help(const SettingSpec& spec) {
  constexpr std::string_view kDefault = "{default}";
  std::string help(spec.help);
  if (const auto at = help.find(kDefault); at != std::string::npos) {
    help.replace(at, kDefault.size(), spec.default_value);
  }
  return help;
}

std::optional<std::string> apply_setting(Settings& settings, const SettingSpec& spec,
                                         std::string_view value) {
  if (spec.is_number()) {
    const auto number = parse_number(value, spec.min, spec.max);
    if (!number) return refusal(spec, value);
    spec.store_number(settings, *number);
    return std::nullopt;
  }
  if (!spec.store_text(settings, value)) return refusal(spec, value);
  return std::nullopt;
}

std::optional<std::string> apply_setting(Settings& settings, std::string_view key,
                                         std::string_view value) {
  const SettingSpec* spec = find_setting(key);
  if (spec == nullptr) return "unknown key '" + std::string(key) + "'";
  return apply_setting(settings, *spec, value);
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
