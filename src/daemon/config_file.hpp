// The config file: `key = value` lines, `#` comment lines, blank lines; the keys are the
// long options' names. Every problem names the file, the line number and the key.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "daemon/command_line.hpp"
#include "daemon/settings.hpp"

namespace epollchat::daemon {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Applies every line of `text` to `settings`; throws ConfigError("FILE:LINE: problem").
void apply_config_text(Settings& settings, std::string_view text, std::string_view file_name);

// Reads and applies a file; a missing or unreadable file is a ConfigError.
void apply_config_file(Settings& settings, const std::string& path);

// Defaults, then the config file (the default one only if it exists), then the command
// line's values, then the checks between keys. Throws ConfigError.
Settings load_settings(const CommandLine& command_line, const std::string& default_config_path);

}  // namespace epollchat::daemon
