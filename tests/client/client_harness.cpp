#include "client_harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "core/socket.hpp"
#include "support/chat_client.hpp"
#include "support/deadline.hpp"
#include "support/loopback.hpp"

namespace epollchat::test {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int poll_one(int fd, short events, const Deadline& deadline) {
  pollfd entry{fd, events, 0};
  int ready = 0;
  do {
    ready = ::poll(&entry, 1, deadline.poll_timeout());
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) throw_errno("poll");
  return ready == 0 ? 0 : entry.revents;
}

// Runs in the forkpty() child, before exec: async-signal-safe calls only (the test process
// has other threads: the daemon's output captures).
[[noreturn]] void exec_on_terminal(char* const* argv, char* const* envp) {
  termios settings{};
  if (::tcgetattr(STDIN_FILENO, &settings) == 0) {
    settings.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    settings.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
    (void)::tcsetattr(STDIN_FILENO, TCSANOW, &settings);
  }
  // As from a login shell: default actions and nothing blocked, whatever the test runner
  // set up for itself.
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) {
    (void)::sigaction(signal_number, &action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  (void)::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

}  // namespace

std::string client_path() {
  const char* path = std::getenv("EPOLLCHAT");
  if (path == nullptr || *path == '\0') throw std::runtime_error("EPOLLCHAT is not set");
  return path;
}

std::vector<std::string> client_args(std::uint16_t port, const std::string& host) {
  return {client_path(), host, std::to_string(port)};
}

PtyClient::PtyClient(const std::vector<std::string>& args) {
  // Everything the child needs exists before fork(): it must not allocate.
  std::vector<std::string> argv_storage = args;
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = clean_environment();
  std::vector<char*> envp;
  for (auto& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int master = -1;
  pid_ = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid_ < 0) throw_errno("forkpty");
  if (pid_ == 0) exec_on_terminal(argv.data(), envp.data());
  master_ = UniqueFd(master);
  ::fcntl(master_.get(), F_SETFD, FD_CLOEXEC);
  set_nonblocking(master_.get());
  // Through syscall(2): Debian 12's glibc declares pidfd_open without C linkage for C++.
  pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  if (!pidfd_) {
    const int error = errno;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::system_error(error, std::generic_category(), "pidfd_open");
  }
}

PtyClient::~PtyClient() {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void PtyClient::type(std::string_view keys) {
  const Deadline deadline(kClientTimeout);
  while (!keys.empty()) {
    const ssize_t written = ::write(master_.get(), keys.data(), keys.size());
    if (written > 0) {
      keys.remove_prefix(static_cast<std::size_t>(written));
    } else if (written < 0 && errno == EAGAIN) {
      // The terminal's input queue is full: read its output meanwhile, so epollchat is
      // never blocked on us while we wait for it.
      read_available();
      if (poll_one(master_.get(), POLLOUT, deadline) == 0) {
        throw std::runtime_error("typing on the pty timed out");
      }
    } else if (written < 0 && errno != EINTR) {
      throw_errno("write to pty master");
    }
  }
}

bool PtyClient::read_available() {
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(master_.get(), buffer, sizeof buffer);
    if (got > 0) {
      output_.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return true;
    // EIO: every process has closed the terminal's slave side.
    return false;
  }
}

::testing::AssertionResult PtyClient::wait_for_output(std::string_view needle,
                                                      std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    const bool open = read_available();
    if (output_.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    if (!open || deadline.has_expired() || poll_one(master_.get(), POLLIN, deadline) == 0) {
      return ::testing::AssertionFailure()
             << "no '" << escape_bytes(needle) << "' on the terminal; it shows '"
             << escape_bytes(output_, 2000) << "'";
    }
  }
}

std::optional<ExitStatus> PtyClient::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const Deadline deadline(timeout);
  bool open = true;
  for (;;) {
    if (open) open = read_available();
    pollfd entries[2] = {{pidfd_.get(), POLLIN, 0}, {master_.get(), POLLIN, 0}};
    const int ready = ::poll(entries, open ? 2 : 1, deadline.poll_timeout());
    if (ready < 0 && errno != EINTR) throw_errno("poll");
    if (ready == 0) return std::nullopt;
    if ((entries[0].revents & POLLIN) != 0) break;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  status_ = ExitStatus::from_wait_status(status);
  read_available();
  return status_;
}

PipedClient::PipedClient(const std::vector<std::string>& args)
    : out_(std::make_unique<OutputCapture>()), err_(std::make_unique<OutputCapture>()) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw_errno("pipe2");
  UniqueFd read_end(ends[0]);
  input_ = UniqueFd(ends[1]);

  SpawnSpec spec;
  spec.argv = args;
  spec.env = clean_environment();
  spec.stdin_fd = read_end.get();
  spec.stdout_fd = out_->write_fd();
  spec.stderr_fd = err_->write_fd();
  child_ = std::make_unique<ChildProcess>(ChildProcess::spawn(spec));
  out_->close_write_end();
  err_->close_write_end();
  // Writes are bounded by poll, so a client that stops reading fails the test, not hangs it.
  set_nonblocking(input_.get());
}

::testing::AssertionResult PipedClient::write_input(std::string_view bytes,
                                                    std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (!bytes.empty()) {
    const ssize_t written = ::write(input_.get(), bytes.data(), bytes.size());
    if (written > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(written));
    } else if (written < 0 && errno == EAGAIN) {
      if (poll_one(input_.get(), POLLOUT, deadline) == 0) {
        return ::testing::AssertionFailure()
               << "epollchat stopped reading its input with " << bytes.size() << " bytes left";
      }
    } else if (written < 0 && errno != EINTR) {
      return ::testing::AssertionFailure()
             << "write to epollchat's stdin: " << std::strerror(errno);
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult PipedClient::wait_for_output(std::string_view needle,
                                                        std::chrono::milliseconds timeout) {
  if (out_->wait_for(needle, timeout)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "no '" << escape_bytes(needle) << "' on stdout; it has '"
         << escape_bytes(out_->text(), 2000) << "'; stderr '" << escape_bytes(err_->text()) << "'";
}

std::optional<ExitStatus> PipedClient::wait_exit(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  std::optional<ExitStatus> status = child_->wait_exit(deadline.remaining());
  if (status) {
    // EOF comes once no process holds the pipes, the input reader included.
    EXPECT_TRUE(out_->wait_for_eof(deadline.remaining())) << "stdout still open after exit";
    EXPECT_TRUE(err_->wait_for_eof(deadline.remaining())) << "stderr still open after exit";
  }
  return status;
}

void become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw_errno("prctl(PR_SET_CHILD_SUBREAPER)");
}

std::vector<pid_t> children_of(pid_t pid) {
  const std::string path =
      "/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children";
  std::ifstream file(path);
  std::vector<pid_t> children;
  pid_t child = 0;
  while (file >> child) children.push_back(child);
  return children;
}

::testing::AssertionResult is_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return ::testing::AssertionSuccess();
  // Left behind and, thanks to become_subreaper(), now ours: clean up, then fail.
  ::kill(pid, SIGKILL);
  int status = 0;
  const bool reaped_here = ::waitpid(pid, &status, 0) == pid;
  return ::testing::AssertionFailure()
         << "process " << pid << " outlived epollchat"
         << (reaped_here ? " (it was left for the test to reap)" : "");
}

::testing::AssertionResult find_input_reader(pid_t client, pid_t& reader) {
  const std::vector<pid_t> children = children_of(client);
  if (children.size() != 1) {
    return ::testing::AssertionFailure()
           << "epollchat (pid " << client << ") has " << children.size()
           << " children, expected its one input reader";
  }
  reader = children.front();
  return ::testing::AssertionSuccess();
}

StandInServer::StandInServer(const std::string& host, std::optional<int> receive_buffer) {
  const auto address = loopback_address(host, 0);
  listener_ = UniqueFd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_) throw_errno("socket");
  if (receive_buffer) {
    const int size = *receive_buffer;
    if (::setsockopt(listener_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0) {
      throw_errno("setsockopt(SO_RCVBUF)");
    }
  }
  if (::bind(listener_.get(), address.get(), address.length()) != 0) throw_errno("bind " + host);
  if (::listen(listener_.get(), 4) != 0) throw_errno("listen");
  port_ = local_port(listener_.get());
}

UniqueFd StandInServer::accept(std::chrono::milliseconds timeout) {
  if (poll_one(listener_.get(), POLLIN, Deadline(timeout)) == 0) {
    throw std::runtime_error("the stand-in server saw no connection");
  }
  UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) throw_errno("accept4");
  return fd;
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      throw_errno("send");
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

namespace {

// Reads what is there within the deadline; false on EOF, error or timeout.
bool receive_some(int fd, std::string& into, const Deadline& deadline) {
  if (poll_one(fd, POLLIN, deadline) == 0) return false;
  char buffer[65536];
  ssize_t got = 0;
  do {
    got = ::recv(fd, buffer, sizeof buffer, 0);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return false;
  into.append(buffer, static_cast<std::size_t>(got));
  return true;
}

}  // namespace

std::string receive_until(int fd, std::string_view needle, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  std::string received;
  while (received.find(needle) == std::string::npos && receive_some(fd, received, deadline)) {
  }
  return received;
}

std::optional<std::string> receive_until_closed(int fd, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  std::string received;
  while (receive_some(fd, received, deadline)) {
  }
  if (deadline.has_expired()) return std::nullopt;
  return received;
}

}  // namespace epollchat::test
