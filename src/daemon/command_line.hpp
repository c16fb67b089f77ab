// The epollchatd command line.
//
// Parsing never exits or prints: it returns what was asked for or throws UsageError with
// the message main prints. Setting values are kept as given so a reload can apply them
// again on top of the re-read config file (the command line wins over the file).
#pragma once

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epollchat::daemon {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandLine {
  enum class Action { run, check_config, help, version };
  Action action = Action::run;
  std::optional<std::string> config_path;
  // (key, value) pairs of setting options, in the order given; all already validated.
  std::vector<std::pair<std::string, std::string>> settings;
};

// `args` excludes the program name.
CommandLine parse_command_line(std::span<const std::string_view> args);

std::string usage_text();

}  // namespace epollchat::daemon
