#include "daemon/command_line.hpp"

#include "build_config.hpp"
#include "daemon/settings.hpp"

namespace epollchat::daemon {
namespace {

// Splits "--key=value" into ("key", "value"); "--key" into ("key", nullopt).
std::pair<std::string_view, std::optional<std::string_view>> split_long(std::string_view arg) {
  arg.remove_prefix(2);
  const auto equals = arg.find('=');
  if (equals == std::string_view::npos) return {arg, std::nullopt};
  return {arg.substr(0, equals), arg.substr(equals + 1)};
}

// One option of --help: the option as given, then its help from column kHelpColumn, on
// the next line if the option leaves no two spaces before it; each '\n' of the help
// continues it in the same column.
std::string option_help(std::string_view option, std::string_view help) {
  constexpr std::size_t kHelpColumn = 27;
  const std::string indent(kHelpColumn, ' ');
  std::string text(option);
  if (text.size() + 2 <= kHelpColumn) {
    text.resize(kHelpColumn, ' ');
  } else {
    text += "\n" + indent;
  }
  for (const char c : help) {
    text += c;
    if (c == '\n') text += indent;
  }
  return text + "\n";
}

}  // namespace

CommandLine parse_command_line(std::span<const std::string_view> args) {
  CommandLine result;
  Settings scratch;  // validates values as they are read
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    auto take_value = [&](std::string_view option,
                          std::optional<std::string_view> inline_value) -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size())
        throw UsageError("option '" + std::string(option) + "' needs a value");
      return args[++i];
    };

    if (arg == "-h" || arg == "--help") {
      result.action = CommandLine::Action::help;
    } else if (arg == "--version") {
      result.action = CommandLine::Action::version;
    } else if (arg == "-t" || arg == "--check-config") {
      if (result.action == CommandLine::Action::run)
        result.action = CommandLine::Action::check_config;
    } else if (arg == "-c") {
      result.config_path = std::string(take_value(arg, std::nullopt));
    } else if (arg.starts_with("-c") && !arg.starts_with("--")) {
      result.config_path = std::string(arg.substr(2));
    } else if (arg.starts_with("--") && arg.size() > 2) {
      const auto [key, inline_value] = split_long(arg);
      if (key == "config") {
        result.config_path = std::string(take_value("--config", inline_value));
      } else if (const SettingSpec* spec = find_setting(key)) {
        const std::string option = "--" + std::string(key);
        const std::string_view value = take_value(option, inline_value);
        if (const auto problem = apply_setting(scratch, *spec, value)) throw UsageError(*problem);
        result.settings.emplace_back(std::string(key), std::string(value));
      } else {
        throw UsageError("unknown option '" + std::string(arg) + "'");
      }
    } else if (arg.starts_with("-") && arg.size() > 1) {
      throw UsageError("unknown option '" + std::string(arg) + "'");
    } else {
      throw UsageError("unexpected argument '" + std::string(arg) + "'");
    }
  }
  if (result.config_path && result.config_path->empty())
    throw UsageError("option '-c' needs a file name");
  return result;
}

std::string usage_text() {
  std::string text =
      "Usage: epollchatd [OPTIONS]\n"
      "A chat server with rooms: a client's lines go to the others in its room.\n"
      "\n"
      "Options:\n";
  for (const SettingSpec& setting : setting_specs()) {
    text +=
        option_help("      --" + std::string(setting.key) + " " + std::string(setting.value_name),
                    setting_help(setting));
    // Where the settings come from follows where the daemon listens.
    if (setting.key == "port") {
      text += option_help("  -c, --config FILE",
                          "config file (default " EPOLLCHATD_DEFAULT_CONFIG
                          "),\nthen the *.conf files of conf.d beside it, by name");
    }
  }
  text += option_help("  -t, --check-config",
                      "check the options and config files, report every\nproblem, then exit");
  text += option_help("  -h, --help", "show this help and exit");
  text += option_help("      --version", "show the version and exit");
  text +=
      "\n"
      "Command-line values override the config files. SIGHUP re-reads them.\n"
      "See epollchatd(8) and epollchatd.conf(5).\n";
  return text;
}

}  // namespace epollchat::daemon
