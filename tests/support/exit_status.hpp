// ExitStatus: how a child process ended, as waitpid(2) reported it.
//
// A value type that gtest can compare and print: EXPECT_EQ(status, ExitStatus::exited_with(0))
// fails with "exited with 78" or "killed by signal 6 (Aborted)" rather than a raw number.
#pragma once

#include <ostream>
#include <string>

namespace epollchat::test {

struct ExitStatus {
  enum class Kind { exited, killed };
  Kind kind = Kind::exited;
  int value = 0;  // the exit code, or the signal number

  static ExitStatus exited_with(int code) { return {Kind::exited, code}; }
  static ExitStatus killed_by(int signal) { return {Kind::killed, signal}; }
  // Converts a status word from waitpid(2).
  static ExitStatus from_wait_status(int status);

  [[nodiscard]] std::string describe() const;
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

void PrintTo(const ExitStatus& status, std::ostream* out);
std::ostream& operator<<(std::ostream& out, const ExitStatus& status);

}  // namespace epollchat::test
