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

// Throws std::runtime_error (after SIGKILL) if the child is still running after `timeout`,
// std::system_error if it cannot be started.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace epollchat::test
