#include "daemon/config_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "daemon/redis_password.hpp"
#include "daemon/small_file.hpp"
#include "daemon/tls_credentials.hpp"

namespace epollchat::daemon {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\f\v";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::string shorten(std::string_view text) {
  constexpr std::size_t kShown = 60;
  return text.size() <= kShown ? std::string(text) : std::string(text.substr(0, kShown)) + "...";
}

}  // namespace

void apply_config_text(Settings& settings, std::string_view text, std::string_view file_name) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    const std::string_view raw = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);

    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;

    const auto fail = [&](const std::string& problem) {
      throw ConfigError(std::string(file_name) + ":" + std::to_string(line_number) + ": " +
                        problem);
    };
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      fail("expected 'key = value', got '" + shorten(line) + "'");
    }
    const std::string_view key = trim(line.substr(0, equals));
    const std::string_view value = trim(line.substr(equals + 1));
    if (key.empty()) fail("missing key before '='");
    const SettingSpec* spec = find_setting(key);
    if (spec == nullptr) fail("unknown key '" + shorten(key) + "'");
    if (value.empty()) fail("missing value for key '" + std::string(key) + "'");
    if (apply_setting(settings, *spec, value)) {
      // The key names the setting; the problem's own wording ("invalid port") would
      // name it a second time.
      fail("key '" + std::string(key) + "': invalid value '" + shorten(value) + "' (expected " +
           expected_values(*spec) + ")");
    }
  }
}

void apply_config_file(Settings& settings, const std::string& path) {
  // A config file is a few hundred bytes; anything past this is not one.
  constexpr std::size_t kMaxConfigSize = 1024 * 1024;
  std::string contents;
  if (const int error = read_small_file(path, kMaxConfigSize, contents); error != 0) {
    throw ConfigError("cannot read config file " + path + ": " + std::strerror(error));
  }
  apply_config_text(settings, contents, path);
}

Settings load_settings(const CommandLine& command_line, const std::string& default_config_path) {
  Settings settings;
  if (command_line.config_path) {
    apply_config_file(settings, *command_line.config_path);
  } else {
    struct stat info {};
    // Only an absent default file is skipped; one that exists but cannot be read is an error.
    if (stat(default_config_path.c_str(), &info) == 0 || errno != ENOENT) {
      apply_config_file(settings, default_config_path);
    }
  }
  for (const auto& [key, value] : command_line.settings) {
    // Validated by parse_command_line already.
    (void)apply_setting(settings, key, value);
  }
  if (const auto problem = check_consistency(settings)) throw ConfigError(*problem);
  if (!settings.redis.empty()) {
    const std::string password_path = settings.redis_password_file.empty()
                                          ? redis_password_credential_path()
                                          : settings.redis_password_file;
    if (!password_path.empty()) settings.redis_password = read_redis_password(password_path);
    if (!settings.redis_user.empty() && settings.redis_password.empty()) {
      throw ConfigError("redis-user '" + settings.redis_user +
                        "' needs a password: set redis-password-file or give the service the "
                        "credential redis-password");
    }
  }
  // Checked here so that --check-config and a reload refuse what the TLS listener could
  // not use.
  if (settings.tls_port) (void)load_tls_context(settings);
  return settings;
}

}  // namespace epollchat::daemon
