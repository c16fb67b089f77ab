// ChildProcess: one forked and exec'd program, watched through a pidfd.
//
// Owns: the child (it is killed with SIGKILL and reaped by the destructor if the test has not
// reaped it) and a pidfd, which becomes readable when the child exits, so every wait is a
// poll(2) with a timeout and never a sleep.
// Never: runs anything but async-signal-safe calls between fork() and exec(); the fds it is
// handed are borrowed (dup2'd in the child), not consumed.
// Lifetime: move-only; the child process is tied to the object.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"
#include "support/exit_status.hpp"

namespace epollchat::test {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is the path to exec (no PATH search)
  std::vector<std::string> env;   // the complete environment, "KEY=value"
  int stdin_fd = -1;              // -1: /dev/null
  int stdout_fd = -1;             // -1: /dev/null
  int stderr_fd = -1;             // -1: /dev/null
  // Sets RLIMIT_NOFILE (soft and hard) in the child before exec.
  std::optional<rlim_t> nofile_limit;
  // Exports WATCHDOG_PID=<the child's own pid>, which is only known after fork().
  bool export_watchdog_pid = false;
  // Descriptors handed on as a service manager does: passed_fds[i] becomes fd 3 + i in the
  // child (borrowed, not consumed). The caller sets LISTEN_FDS and LISTEN_FDNAMES in env.
  std::vector<int> passed_fds;
  // Exports LISTEN_PID=<the child's own pid>, which is only known after fork().
  bool export_listen_pid = false;
};

class ChildProcess {
 public:
  // Throws std::system_error if fork or exec fails (exec errors are reported back through a
  // CLOEXEC pipe, so a bad path is an exception here, not a mysterious exit 127 later).
  static ChildProcess spawn(const SpawnSpec& spec);

  ChildProcess(ChildProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        pidfd_(std::move(other.pidfd_)),
        status_(other.status_) {}
  ChildProcess& operator=(ChildProcess&&) noexcept = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Readable (POLLIN) once the child has exited; for callers that poll it with other fds.
  [[nodiscard]] int pidfd() const { return pidfd_.get(); }
  [[nodiscard]] bool has_exited() const;

  void send_signal(int signal) const;  // throws std::system_error
  // Waits up to `timeout` for the child to exit and reaps it. Returns nullopt on timeout.
  // Once reaped, later calls return the same status at once.
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds timeout);

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::optional<ExitStatus> status_;
};

// The environment of the test process, minus the variables through which systemd talks to a
// service (NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*, JOURNAL_STREAM), so a test never leaks its
// own into a child.
std::vector<std::string> clean_environment();

// "DEVICE:INODE" of the file `fd` is open on, as systemd puts it in JOURNAL_STREAM for a
// service whose stderr is the journal. Throws std::system_error if fstat fails.
std::string journal_stream_of(int fd);

// Sets KEY=value in an environment vector, replacing an existing KEY.
void set_environment(std::vector<std::string>& env, const std::string& key,
                     const std::string& value);

}  // namespace epollchat::test
