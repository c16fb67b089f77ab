// epollchatd: options and exit status; everything else is the Service's.
#include <sysexits.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "build_config.hpp"
#include "core/log.hpp"
#include "daemon/command_line.hpp"
#include "daemon/config_file.hpp"
#include "daemon/service.hpp"
#include "daemon/service_user.hpp"

namespace {

using namespace epollchat::daemon;

// Every way out of main with a non-zero status comes through here: at err priority, so
// `systemctl status` and `journalctl -p err` show why the service did not start, whatever
// the configured log level.
int fail(int status, std::string_view message) {
  const epollchat::Log log;
  log.error("epollchatd: " + std::string(message));
  return status;
}

// Every problem, one a line.
int fail(const ConfigError& error) {
  for (const std::string& problem : error.problems()) fail(EX_CONFIG, problem);
  return EX_CONFIG;
}

// The verdict a start or `systemctl reload` would give. Run by hand, outside the service,
// the credentials systemd hands the service are not there: what depends on them is noted,
// not failed. The unit's own ExecReload= and ExecStartPre= run as its dynamic user, with
// $CREDENTIALS_DIRECTORY if it has credentials.
int check_config(const CommandLine& command_line) {
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  const bool in_service =
      (credentials != nullptr && *credentials != '\0') || runs_as_dynamic_user();
  const CheckPlace place = in_service ? CheckPlace::service : CheckPlace::shell;
  const ConfigReport report = check_configuration(command_line, EPOLLCHATD_DEFAULT_CONFIG, place);
  for (const std::string& note : report.notes) std::cerr << "epollchatd: note: " << note << '\n';
  if (!report.problems.empty()) return fail(ConfigError(report.problems));
  std::cout << "epollchatd: configuration OK\n";
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  epollchat::Log::set_format(epollchat::stderr_log_format(std::getenv("JOURNAL_STREAM")));
  const std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  CommandLine command_line;
  try {
    command_line = parse_command_line(args);
  } catch (const UsageError& error) {
    return fail(EX_USAGE,
                std::string(error.what()) + "\nTry 'epollchatd --help' for more information.");
  }

  switch (command_line.action) {
    case CommandLine::Action::help:
      std::cout << usage_text();
      return EXIT_SUCCESS;
    case CommandLine::Action::version:
      std::cout << "epollchatd " << EPOLLCHAT_VERSION << '\n';
      return EXIT_SUCCESS;
    case CommandLine::Action::check_config:
    case CommandLine::Action::run:
      break;
  }

  if (command_line.action == CommandLine::Action::check_config) {
    return check_config(command_line);
  }
  Settings settings;
  try {
    settings = load_settings(command_line, EPOLLCHATD_DEFAULT_CONFIG);
  } catch (const ConfigError& error) {
    return fail(error);
  } catch (const std::exception& error) {
    return fail(EX_SOFTWARE, error.what());
  }

  try {
    Service service(std::move(command_line), EPOLLCHATD_DEFAULT_CONFIG, std::move(settings));
    service.run();
  } catch (const ConfigError& error) {
    return fail(error);
  } catch (const ListenError& error) {
    return fail(EXIT_FAILURE, error.what());
  } catch (const std::system_error& error) {
    return fail(EXIT_FAILURE, error.what());
  } catch (const std::bad_alloc&) {
    return fail(EX_OSERR, "out of memory");
  } catch (const std::exception& error) {
    return fail(EX_SOFTWARE, error.what());
  }
  return EXIT_SUCCESS;
}
