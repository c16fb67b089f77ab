#include "daemon/config_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "daemon/redis_password.hpp"
#include "daemon/service_user.hpp"
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

std::string one_a_line(const std::vector<std::string>& problems) {
  std::string text;
  for (const std::string& problem : problems) {
    if (!text.empty()) text += '\n';
    text += problem;
  }
  return text;
}

void throw_if_any(std::vector<std::string> problems) {
  if (!problems.empty()) throw ConfigError(std::move(problems));
}

// The problem of one line, or "" if it is fine (applied, or a comment or blank).
std::string apply_config_line(Settings& settings, std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() == '#') return {};
  const auto equals = line.find('=');
  if (equals == std::string_view::npos)
    return "expected 'key = value', got '" + shorten(line) + "'";
  const std::string_view key = trim(line.substr(0, equals));
  const std::string_view value = trim(line.substr(equals + 1));
  if (key.empty()) return "missing key before '='";
  const SettingSpec* spec = find_setting(key);
  if (spec == nullptr) return "unknown key '" + shorten(key) + "'";
  if (value.empty()) return "missing value for key '" + std::string(key) + "'";
  // The refusal names the key's value ("invalid port 'x' ..."), so the key is not repeated.
  return apply_setting(settings, *spec, value).value_or("");
}

// The config file to read: the one given, else the default one if it exists. Only an absent
// default file is skipped; one that exists but cannot be read is an error.
bool should_read_main_file(const CommandLine& command_line, const std::string& path) {
  if (command_line.config_path) return true;
  struct stat info {};
  return stat(path.c_str(), &info) == 0 || errno != ENOENT;
}

// The Redis password, from the file or the credential; problems and notes into `report`.
void check_redis_login(ConfigReport& report, CheckPlace place) {
  Settings& settings = report.settings;
  if (settings.redis.empty()) return;
  if (settings.redis_password_file.empty() && place == CheckPlace::shell) {
    report.notes.emplace_back(
        "the credential redis-password is only available inside the service; not checked");
    return;
  }
  if (!settings.redis_password_file.empty() &&
      (place == CheckPlace::shell || runs_as_dynamic_user())) {
    // Root reads any file; the service's dynamic user would be refused.
    if (auto problem = redis_password_file_hidden_from_service(settings.redis_password_file)) {
      report.problems.push_back(std::move(*problem));
      return;
    }
  }
  const std::string password_path = settings.redis_password_file.empty()
                                        ? redis_password_credential_path()
                                        : settings.redis_password_file;
  try {
    if (!password_path.empty()) settings.redis_password = read_redis_password(password_path);
  } catch (const ConfigError& error) {
    report.problems.insert(report.problems.end(), error.problems().begin(), error.problems().end());
    return;
  }
  if (!settings.redis_user.empty() && settings.redis_password.empty()) {
    report.problems.push_back("redis-user '" + settings.redis_user +
                              "' needs a password: set redis-password-file or give the service "
                              "the credential redis-password");
  }
}

// Checked so that --check-config and a reload refuse what the TLS listener could not use.
void check_tls(ConfigReport& report, CheckPlace place) {
  const Settings& settings = report.settings;
  if (!settings.tls_port) return;
  if (place == CheckPlace::shell) {
    bool complete = true;
    for (const auto& [file, credential] : {std::pair{&settings.tls_cert_file, "tls-cert"},
                                           std::pair{&settings.tls_key_file, "tls-key"}}) {
      if (!file->empty()) continue;
      report.notes.push_back(std::string("the credential ") + credential +
                             " is only available inside the service; not checked");
      complete = false;
    }
    if (!complete) return;
  }
  try {
    (void)load_tls_context(settings);
  } catch (const ConfigError& error) {
    report.problems.insert(report.problems.end(), error.problems().begin(), error.problems().end());
  }
}

}  // namespace

ConfigError::ConfigError(const std::string& problem)
    : std::runtime_error(problem), problems_{problem} {}

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(one_a_line(problems)), problems_(std::move(problems)) {}

void apply_config_text(Settings& settings, std::string_view text, std::string_view file_name,
                       std::vector<std::string>& problems) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (std::string problem = apply_config_line(settings, line); !problem.empty()) {
      problems.push_back(std::string(file_name) + ":" + std::to_string(line_number) + ": " +
                         problem);
    }
  }
}

void apply_config_text(Settings& settings, std::string_view text, std::string_view file_name) {
  std::vector<std::string> problems;
  apply_config_text(settings, text, file_name, problems);
  throw_if_any(std::move(problems));
}

void apply_config_file(Settings& settings, const std::string& path,
                       std::vector<std::string>& problems) {
  // A config file is a few hundred bytes; anything past this is not one.
  constexpr std::size_t kMaxConfigSize = 1024 * 1024;
  std::string contents;
  if (const int error = read_small_file(path, kMaxConfigSize, contents); error != 0) {
    problems.push_back("cannot read config file " + path + ": " + std::strerror(error));
    return;
  }
  apply_config_text(settings, contents, path, problems);
}

void apply_config_file(Settings& settings, const std::string& path) {
  std::vector<std::string> problems;
  apply_config_file(settings, path, problems);
  throw_if_any(std::move(problems));
}

std::vector<std::string> config_dropin_paths(const std::string& config_path,
                                             std::vector<std::string>& problems) {
  namespace fs = std::filesystem;
  const fs::path directory = fs::path(config_path).parent_path() / "conf.d";
  std::vector<std::string> paths;
  std::error_code error;
  fs::directory_iterator entries(directory, error);
  if (error == std::errc::no_such_file_or_directory || error == std::errc::not_a_directory) {
    return paths;
  }
  for (; !error && entries != fs::directory_iterator(); entries.increment(error)) {
    const std::string name = entries->path().filename().string();
    // Dot files are editors' and package managers' leftovers ("..conf.swp", ".#a.conf").
    if (name.size() > 5 && name.ends_with(".conf") && !name.starts_with('.')) {
      paths.push_back(entries->path().string());
    }
  }
  if (error) {
    problems.push_back("cannot read config directory " + directory.string() + ": " +
                       error.message());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

ConfigReport check_configuration(const CommandLine& command_line,
                                 const std::string& default_config_path, CheckPlace place) {
  ConfigReport report;
  Settings& settings = report.settings;
  const std::string main_path = command_line.config_path.value_or(default_config_path);
  if (should_read_main_file(command_line, main_path)) {
    apply_config_file(settings, main_path, report.problems);
  }
  for (const std::string& dropin : config_dropin_paths(main_path, report.problems)) {
    apply_config_file(settings, dropin, report.problems);
  }
  for (const auto& [key, value] : command_line.settings) {
    // Validated by parse_command_line already.
    (void)apply_setting(settings, key, value);
  }
  if (const auto problem = check_consistency(settings)) report.problems.push_back(*problem);
  check_redis_login(report, place);
  check_tls(report, place);
  return report;
}

Settings load_settings(const CommandLine& command_line, const std::string& default_config_path) {
  ConfigReport report = check_configuration(command_line, default_config_path, CheckPlace::service);
  throw_if_any(std::move(report.problems));
  return std::move(report.settings);
}

}  // namespace epollchat::daemon
