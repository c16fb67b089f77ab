#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

extern char** environ;

namespace epollchat::test {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Writes the decimal form of `value` after `prefix_length` bytes of `buffer`, NUL-terminated.
// Async-signal-safe: runs in the child between fork() and exec().
void format_pid_into(char* buffer, std::size_t prefix_length, pid_t value) {
  char digits[16];
  std::size_t count = 0;
  auto rest = static_cast<unsigned long>(value);
  do {
    digits[count++] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  } while (rest != 0 && count < sizeof digits);
  char* out = buffer + prefix_length;
  while (count > 0) *out++ = digits[--count];
  *out = '\0';
}

// Sends errno to the parent through the CLOEXEC error pipe and ends the child.
[[noreturn]] void report_exec_failure(int error_fd) {
  const int error = errno;
  [[maybe_unused]] const auto written = ::write(error_fd, &error, sizeof error);
  ::_exit(127);
}

// Moves spec.passed_fds to 3, 4, ... First every source goes above the targets (into
// `copies`, prepared before fork()), so that a source already sitting on a target number is
// not overwritten before it is copied; the copies are CLOEXEC and vanish at exec, while dup2
// clears the flag on the targets. False with errno set on failure.
bool pass_fds(const SpawnSpec& spec, int above, int* copies) {
  const std::size_t count = spec.passed_fds.size();
  for (std::size_t i = 0; i < count; ++i) {
    copies[i] = ::fcntl(spec.passed_fds[i], F_DUPFD_CLOEXEC, above);
    if (copies[i] < 0) return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (::dup2(copies[i], 3 + static_cast<int>(i)) < 0) return false;
  }
  return true;
}

// Runs in the child. Only async-signal-safe calls: the parent may have other threads.
[[noreturn]] void exec_child(const SpawnSpec& spec, int null_fd, int error_fd, char* const* argv,
                             char* const* envp, char* watchdog_entry, char* listen_pid_entry,
                             int* copies) {
  const int original_error_fd = error_fd;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  const std::array<int, 3> sources{spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  for (int target = 0; target < 3; ++target) {
    const int source = sources[static_cast<std::size_t>(target)] >= 0
                           ? sources[static_cast<std::size_t>(target)]
                           : null_fd;
    // dup2 clears FD_CLOEXEC on the target; when source == target it would not, so clear it.
    if (source == target) {
      ::fcntl(target, F_SETFD, 0);
    } else if (::dup2(source, target) < 0) {
      report_exec_failure(error_fd);
    }
  }
  if (spec.nofile_limit) {
    const rlimit limit{*spec.nofile_limit, *spec.nofile_limit};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) report_exec_failure(error_fd);
  }
  if (watchdog_entry != nullptr) {
    format_pid_into(watchdog_entry, std::strlen("WATCHDOG_PID="), ::getpid());
  }
  if (listen_pid_entry != nullptr) {
    format_pid_into(listen_pid_entry, std::strlen("LISTEN_PID="), ::getpid());
  }
  if (!spec.passed_fds.empty()) {
    // The error pipe, too, must not sit where a passed fd goes.
    const int above = 3 + static_cast<int>(spec.passed_fds.size());
    error_fd = ::fcntl(error_fd, F_DUPFD_CLOEXEC, above);
    if (error_fd < 0) report_exec_failure(original_error_fd);
    if (!pass_fds(spec, above, copies)) report_exec_failure(error_fd);
  }
  ::execve(argv[0], argv, envp);
  report_exec_failure(error_fd);
}

}  // namespace

ChildProcess ChildProcess::spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw std::invalid_argument("spawn: empty argv");

  // Everything the child needs is prepared before fork(): it must not allocate.
  std::vector<std::string> argv_storage = spec.argv;
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_storage = spec.env;
  std::array<char, 64> watchdog_entry{};
  std::array<char, 64> listen_pid_entry{};
  std::vector<char*> envp;
  for (auto& entry : env_storage) {
    const std::string_view text(entry);
    if ((!spec.export_watchdog_pid || !text.starts_with("WATCHDOG_PID=")) &&
        (!spec.export_listen_pid || !text.starts_with("LISTEN_PID="))) {
      envp.push_back(entry.data());
    }
  }
  if (spec.export_watchdog_pid) {
    std::memcpy(watchdog_entry.data(), "WATCHDOG_PID=", std::strlen("WATCHDOG_PID="));
    envp.push_back(watchdog_entry.data());
  }
  if (spec.export_listen_pid) {
    std::memcpy(listen_pid_entry.data(), "LISTEN_PID=", std::strlen("LISTEN_PID="));
    envp.push_back(listen_pid_entry.data());
  }
  envp.push_back(nullptr);
  std::vector<int> copies(spec.passed_fds.size(), -1);

  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd) throw_errno("open /dev/null");
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  UniqueFd error_read(error_pipe[0]);
  UniqueFd error_write(error_pipe[1]);

  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    exec_child(spec, null_fd.get(), error_write.get(), argv.data(), envp.data(),
               spec.export_watchdog_pid ? watchdog_entry.data() : nullptr,
               spec.export_listen_pid ? listen_pid_entry.data() : nullptr, copies.data());
  }
  error_write.reset();

  // pidfd_open works on a child that has already exited, as long as it is not reaped yet.
  // Through syscall(2): Debian 12's glibc declares pidfd_open without C linkage for C++.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    const int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw std::system_error(error, std::generic_category(), "pidfd_open");
  }
  ChildProcess child(pid, std::move(pidfd));

  // The error pipe reaches EOF when exec succeeds (CLOEXEC) or carries errno when it fails.
  int exec_error = 0;
  ssize_t got;
  do {
    got = ::read(error_read.get(), &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    child.wait_exit(std::chrono::seconds(5));
    throw std::system_error(exec_error, std::generic_category(), "exec " + spec.argv[0]);
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

bool ChildProcess::has_exited() const {
  if (status_) return true;
  pollfd entry{pidfd_.get(), POLLIN, 0};
  return ::poll(&entry, 1, 0) > 0;
}

void ChildProcess::send_signal(int signal) const {
  if (status_) throw std::system_error(ESRCH, std::generic_category(), "kill: already reaped");
  if (::kill(pid_, signal) != 0) throw_errno("kill");
}

std::optional<ExitStatus> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  pollfd entry{pidfd_.get(), POLLIN, 0};
  const int timeout_ms = static_cast<int>(timeout.count());
  int ready;
  do {
    ready = ::poll(&entry, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) throw_errno("poll pidfd");
  if (ready == 0) return std::nullopt;
  int status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(pid_, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped < 0) throw_errno("waitpid");
  status_ = ExitStatus::from_wait_status(status);
  return status_;
}

std::vector<std::string> clean_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with("NOTIFY_SOCKET=") || text.starts_with("LISTEN_") ||
        text.starts_with("WATCHDOG_") || text.starts_with("CREDENTIALS_DIRECTORY=") ||
        text.starts_with("JOURNAL_STREAM=")) {
      continue;
    }
    env.emplace_back(text);
  }
  return env;
}

std::string journal_stream_of(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw std::system_error(errno, std::generic_category(), "fstat");
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

void set_environment(std::vector<std::string>& env, const std::string& key,
                     const std::string& value) {
  const std::string prefix = key + "=";
  for (auto& entry : env) {
    if (entry.starts_with(prefix)) {
      entry = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

}  // namespace epollchat::test
