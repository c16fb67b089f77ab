// The config files: the main one, then its directory's conf.d/*.conf in name order; each of
// `key = value` lines, `#` comment lines and blank lines; the keys are the long options'
// names. Every problem names the file and the line number.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/command_line.hpp"
#include "daemon/settings.hpp"

namespace epollchat::daemon {

// One or more problems; what() is all of them, one a line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& problem);
  // `problems` is not empty.
  explicit ConfigError(std::vector<std::string> problems);

  [[nodiscard]] const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Applies every line of `text` to `settings`, going on past a bad line: each problem
// ("FILE:LINE: problem") is appended to `problems`.
void apply_config_text(Settings& settings, std::string_view text, std::string_view file_name,
                       std::vector<std::string>& problems);
// The same; throws ConfigError with every problem.
void apply_config_text(Settings& settings, std::string_view text, std::string_view file_name);

// Reads and applies a file; a missing or unreadable file is a problem too.
void apply_config_file(Settings& settings, const std::string& path,
                       std::vector<std::string>& problems);
void apply_config_file(Settings& settings, const std::string& path);

// The drop-in files of the main config file `config_path`: the names ending in ".conf" in
// the "conf.d" directory beside it, in byte order of their names. A missing directory has
// none; one that cannot be read is a problem.
[[nodiscard]] std::vector<std::string> config_dropin_paths(const std::string& config_path,
                                                           std::vector<std::string>& problems);

// Where load_settings() runs: in the service (its start, a reload, the unit's own
// `--check-config`), or in an admin's shell, where the credentials systemd gives the
// service are not there to check.
enum class CheckPlace { service, shell };

// What reading the configuration found.
struct ConfigReport {
  Settings settings;
  std::vector<std::string> problems;
  // What could not be checked where this ran ("the credential tls-cert is only available
  // inside the service; not checked").
  std::vector<std::string> notes;
};

// Defaults, then the config file (the default one only if it exists), then its drop-ins,
// then the command line's values, then the checks between keys and of the files the
// settings name. Every problem is reported, not only the first.
[[nodiscard]] ConfigReport check_configuration(const CommandLine& command_line,
                                               const std::string& default_config_path,
                                               CheckPlace place);

// check_configuration() for the service; throws ConfigError with every problem.
Settings load_settings(const CommandLine& command_line, const std::string& default_config_path);

}  // namespace epollchat::daemon
