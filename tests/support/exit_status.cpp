#include "support/exit_status.hpp"

#include <sys/wait.h>

#include <cstring>

namespace epollchat::test {

ExitStatus ExitStatus::from_wait_status(int status) {
  if (WIFSIGNALED(status)) return killed_by(WTERMSIG(status));
  return exited_with(WEXITSTATUS(status));
}

std::string ExitStatus::describe() const {
  if (kind == Kind::exited) return "exited with " + std::to_string(value);
  return "killed by signal " + std::to_string(value) + " (" + ::strsignal(value) + ")";
}

void PrintTo(const ExitStatus& status, std::ostream* out) { *out << status.describe(); }

std::ostream& operator<<(std::ostream& out, const ExitStatus& status) {
  return out << status.describe();
}

}  // namespace epollchat::test
