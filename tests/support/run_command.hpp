// run_command: runs a program to completion and captures stdout, stderr and exit status,
// for --help / --version / exit-code / config-error tests.
//
// The child gets the test's environment minus systemd's variables, plus `env`. Output is
// read with poll(2) while the child runs, so a chatty child cannot block on a full pipe.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/exit_status.hpp"

namespace epollchat::test {

struct CommandResult {
  ExitStatus status;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Where the child's stderr goes: a pipe, or a pipe that JOURNAL_STREAM names, as systemd
// names the journal's stream for a service.
enum class StderrIs { pipe, journal };

// Throws std::runtime_error (after SIGKILL) if the child is still running after `timeout`,
// std::system_error if it cannot be started.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(20),
                          StderrIs stderr_is = StderrIs::pipe);

}  // namespace epollchat::test
