// The client's test harness: the real epollchat binary ($EPOLLCHAT, set by meson) driven
// through a pseudo-terminal or through plain pipes, and a stand-in server that the test
// itself plays, byte for byte.
//
// Every wait polls a real fd (the pty master, a pidfd, a socket) or a condition variable
// against a deadline; nothing sleeps in place of synchronisation.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"
#include "support/exit_status.hpp"
#include "support/output_capture.hpp"

namespace epollchat::test {

using namespace std::chrono_literals;

inline constexpr std::chrono::milliseconds kClientTimeout = 5s;

// $EPOLLCHAT. Throws if unset.
std::string client_path();

// The argv for epollchat against host:port.
std::vector<std::string> client_args(std::uint16_t port, const std::string& host = "127.0.0.1");

// epollchat on a new pseudo-terminal, as a user would run it: its own session with the
// pty as controlling terminal, in the foreground process group, so a Ctrl-C typed there
// reaches both epollchat processes. Echo and LF->CRLF translation are turned off, so the
// output read back is exactly what epollchat wrote.
// Owns: the pty master and the process (SIGKILLed and reaped by the destructor if the test
// did not wait for it).
class PtyClient {
 public:
  explicit PtyClient(const std::vector<std::string>& args);
  PtyClient(const PtyClient&) = delete;
  PtyClient& operator=(const PtyClient&) = delete;
  ~PtyClient();

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Everything epollchat has written to the terminal so far (stdout and stderr).
  [[nodiscard]] const std::string& output() const { return output_; }

  // Writes keys to the terminal, as if typed ("\x03" is Ctrl-C, "\x04" Ctrl-D).
  void type(std::string_view keys);
  // Reads the terminal until output() contains `needle`.
  ::testing::AssertionResult wait_for_output(std::string_view needle,
                                             std::chrono::milliseconds timeout = kClientTimeout);
  // Waits for epollchat to exit, reading its last output meanwhile, and reaps it.
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds timeout = kClientTimeout);

 private:
  // Reads what the master has now; false once the terminal's slave side is closed.
  bool read_available();

  UniqueFd master_;
  UniqueFd pidfd_;
  pid_t pid_ = -1;
  std::string output_;
  std::optional<ExitStatus> status_;
};

// epollchat with its standard input, output and error on pipes, as in
// `printf 'hi\n' | epollchat | cat`.
class PipedClient {
 public:
  explicit PipedClient(const std::vector<std::string>& args);

  [[nodiscard]] pid_t pid() const { return child_->pid(); }
  [[nodiscard]] int input_fd() const { return input_.get(); }
  [[nodiscard]] const OutputCapture& out() const { return *out_; }
  [[nodiscard]] const OutputCapture& err() const { return *err_; }

  // Writes all of `bytes` to epollchat's standard input; fails the test on timeout.
  ::testing::AssertionResult write_input(std::string_view bytes,
                                         std::chrono::milliseconds timeout = kClientTimeout);
  // End of input.
  void close_input() { input_.reset(); }

  ::testing::AssertionResult wait_for_output(std::string_view needle,
                                             std::chrono::milliseconds timeout = kClientTimeout);
  void send_signal(int signal) const { child_->send_signal(signal); }
  // Waits for epollchat to exit and reaps it, then for the captures to read everything it
  // wrote (they run in their own threads), so out() and err() are complete afterwards.
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds timeout = kClientTimeout);

 private:
  // unique_ptr: OutputCapture is not movable, and the captures must outlive the child.
  std::unique_ptr<OutputCapture> out_;
  std::unique_ptr<OutputCapture> err_;
  UniqueFd input_;
  std::unique_ptr<ChildProcess> child_;
};

// Makes this test process the subreaper of everything it starts, so that a grandchild that
// epollchat leaves behind is reparented here (and stays visible, even as a zombie) rather
// than to init. Called by every fixture's SetUp().
void become_subreaper();

// Every client test runs as the subreaper of what it starts (see become_subreaper()).
class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { become_subreaper(); }
};

// The children of `pid` (its main thread's), from /proc/PID/task/PID/children.
std::vector<pid_t> children_of(pid_t pid);

// Succeeds if process `pid` no longer exists at all: epollchat has reaped it. A process
// left behind (running or zombie) is killed and reaped, and the assertion fails.
::testing::AssertionResult is_gone(pid_t pid);

// The one child epollchat forks to read standard input. Call after epollchat has printed
// something: the fork happens before its event loop starts.
::testing::AssertionResult find_input_reader(pid_t client, pid_t& reader);

// A listening socket in the test process, for tests that play the server themselves.
class StandInServer {
 public:
  // `receive_buffer`: SO_RCVBUF for accepted connections (set on the listener before
  // listen(), so the advertised window is small from the start).
  explicit StandInServer(const std::string& host = "127.0.0.1",
                         std::optional<int> receive_buffer = std::nullopt);
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // The next connection (blocking, CLOEXEC); throws on timeout.
  UniqueFd accept(std::chrono::milliseconds timeout = kClientTimeout);

 private:
  UniqueFd listener_;
  std::uint16_t port_ = 0;
};

// Sends all of `bytes` on a blocking socket.
void send_all(int fd, std::string_view bytes);
// Reads from a blocking socket until `needle` has arrived or the peer closed; returns all
// bytes read. Bounded by `timeout`.
std::string receive_until(int fd, std::string_view needle,
                          std::chrono::milliseconds timeout = kClientTimeout);
// Reads until the peer closes; nullopt on timeout.
std::optional<std::string> receive_until_closed(int fd,
                                                std::chrono::milliseconds timeout = kClientTimeout);

}  // namespace epollchat::test
