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
  return "Usage: epollchatd [OPTIONS]\n"
         "A chat-room server: every line a client sends goes to every other client.\n"
         "\n"
         "Options:\n"
         "      --listen ADDR        address to listen on (default 127.0.0.1; ::1 and :: work)\n"
         "      --port N             TCP port (default 8888; 0 lets the kernel choose)\n"
         "  -c, --config FILE        config file (default " EPOLLCHATD_DEFAULT_CONFIG
         ")\n"
         "      --max-clients N      clients served at once (default 1024)\n"
         "      --max-line BYTES     longest accepted line (default 4096)\n"
         "      --max-backlog BYTES  unsent output per client before it is cut off\n"
         "                           (default 1048576)\n"
         "      --max-rate LINES     lines per second per client before reading slows down\n"
         "                           (default 10000; 0: unlimited)\n"
         "      --line-timeout SECS  disconnect a client whose incomplete line waits longer\n"
         "                           (default 60; 0: never)\n"
         "      --log-level LEVEL    emerg, alert, crit, err, warning, notice, info, debug\n"
         "                           (default info)\n"
         "      --redis ADDR         share rooms with other nodes through Redis at\n"
         "                           HOST:PORT or /path/to/socket (default: off)\n"
         "      --node-id ID         this node's id in client ids with --redis\n"
         "                           (1-8 of a-z, 0-9; default: random)\n"
         "      --redis-user NAME    log in to Redis as this ACL user (default: default)\n"
         "      --redis-password-file FILE\n"
         "                           Redis's password is the first line of FILE (default:\n"
         "                           the systemd credential redis-password, else none)\n"
         "  -t, --check-config       check the options and config file, then exit\n"
         "  -h, --help               show this help and exit\n"
         "      --version            show the version and exit\n"
         "\n"
         "Command-line values override the config file. SIGHUP re-reads the config file.\n"
         "See epollchatd(8) and epollchatd.conf(5).\n";
}

}  // namespace epollchat::daemon
