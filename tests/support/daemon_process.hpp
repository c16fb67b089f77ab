// DaemonProcess: one epollchatd started for one test, ready to talk to.
//
// Owns: the daemon process (stopped and reaped by the destructor if still running), the
// NotifySocket it reports to, the capture of its stderr, and a TempDir holding its config
// file. The binary comes from the EPOLLCHATD environment variable, which meson sets.
// The constructor returns once the daemon has sent READY=1 (learning the port from its
// STATUS=Listening on ... line) or throws with the daemon's stderr in the message; in
// socket-activation mode it returns once systemd-socket-activate listens, and the test calls
// wait_ready() after making the first connection (that connection is what starts the daemon).
// Never: sleeps: every wait polls the notify socket and a pidfd against a deadline.
// Lifetime: the port, notify socket and log are valid while the object lives.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "support/exit_status.hpp"
#include "support/notify_socket.hpp"
#include "support/output_capture.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {

struct DaemonOptions {
  // Passed as --listen / --port when set. Defaults: loopback, kernel-chosen port.
  std::optional<std::string> listen = "127.0.0.1";
  std::optional<std::string> port = "0";
  // Written to a file in a private TempDir and passed as -c FILE when set (default: empty
  // file, so a config under /etc never leaks into a test).
  std::optional<std::string> config_text = "";
  // Appended after the options above.
  std::vector<std::string> extra_args;
  // Extra environment for the daemon, on top of the test's own (minus systemd's variables).
  std::map<std::string, std::string> env;
  // RLIMIT_NOFILE for the daemon, set in the child before exec.
  std::optional<rlim_t> nofile_limit;
  // Exports WATCHDOG_PID=<the daemon's pid>.
  bool export_watchdog_pid = false;
  // Exports JOURNAL_STREAM naming the captured stderr, as systemd does for a service whose
  // stderr is the journal.
  bool stderr_is_journal = false;
  // Non-empty: run under `systemd-socket-activate -l ADDR ...` (one -l per entry).
  std::vector<std::string> socket_activation_listen;
  // With it: their FileDescriptorName=s, "NAME:NAME..." in the order of the addresses.
  std::string socket_activation_fdnames;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(15)};

  // The defaults, with these command-line arguments.
  static DaemonOptions with_args(std::vector<std::string> args) {
    DaemonOptions options;
    options.extra_args = std::move(args);
    return options;
  }
};

// For tests that measure the daemon's memory: AddressSanitizer keeps freed memory resident
// in its quarantine (up to 256 MiB), so under ASan the daemon gets one of `megabytes` and RSS
// shows what the daemon keeps rather than what it freed. Appended to the ASAN_OPTIONS the
// test runs with. No effect on other builds.
inline DaemonOptions& with_small_asan_quarantine(DaemonOptions& options,
                                                 std::size_t megabytes = 1) {
  const char* asan_options = std::getenv("ASAN_OPTIONS");
  options.env["ASAN_OPTIONS"] = std::string(asan_options != nullptr ? asan_options : "") +
                                ":quarantine_size_mb=" + std::to_string(megabytes);
  return options;
}

// One listener from "STATUS=Listening on 127.0.0.1:PORT, [::1]:PORT".
struct ListenAddress {
  std::string host;  // without brackets: "127.0.0.1", "::1"
  std::uint16_t port = 0;
};

class DaemonProcess {
 public:
  explicit DaemonProcess(DaemonOptions options = {});
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  // Stops the daemon if it still runs (SIGTERM, then SIGKILL after 10 s); fails the current
  // test if its stderr holds a sanitizer report, and prints that stderr if the test failed.
  ~DaemonProcess();

  // Waits for READY=1 and parses its STATUS=. Done by the constructor unless socket-activated.
  void wait_ready();

  [[nodiscard]] pid_t pid() const { return child_->pid(); }
  // The port of the first listener named in the READY=1 datagram's STATUS=.
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] const std::vector<ListenAddress>& listeners() const { return listeners_; }
  // The first TLS listener's port (from READY=1's STATUS=); throws if there is none.
  [[nodiscard]] std::uint16_t tls_port() const;
  [[nodiscard]] const NotifyMessage& ready_message() const { return *ready_message_; }
  [[nodiscard]] NotifySocket& notify() { return notify_; }
  [[nodiscard]] const std::filesystem::path& config_path() const { return config_path_; }
  // Replaces the contents of the config file (for reload tests).
  void write_config(const std::string& text) const;

  // The daemon's stderr (and stdout) so far.
  [[nodiscard]] std::string stderr_text() const { return output_.text(); }
  bool wait_for_stderr(std::string_view needle, std::chrono::milliseconds timeout) const {
    return output_.wait_for(needle, timeout);
  }

  void send_signal(int signal) const { child_->send_signal(signal); }
  [[nodiscard]] bool has_exited() const { return child_->has_exited(); }
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds timeout) {
    return child_->wait_exit(timeout);
  }

 private:
  DaemonOptions options_;
  TempDir dir_;
  std::filesystem::path config_path_;
  NotifySocket notify_;
  OutputCapture output_;
  std::unique_ptr<ChildProcess> child_;
  std::optional<NotifyMessage> ready_message_;
  std::vector<ListenAddress> listeners_;
};

// For a daemon that has exited: fails the current test if `log`, its stderr, holds a
// sanitizer report, and prints the log if the test failed.
void check_daemon_log(pid_t pid, const std::string& log);

// The daemon binary under test: $EPOLLCHATD. Throws if unset.
std::string daemon_path();
// systemd-socket-activate: $SYSTEMD_SOCKET_ACTIVATE if set, else /usr/bin/systemd-socket-activate.
std::string socket_activate_path();

// Parses "Listening on 127.0.0.1:8888, [::1]:8888" (and ignores a "; TLS on ..." after it).
// Empty if the text does not match.
std::vector<ListenAddress> parse_listening_status(std::string_view status);
// The TLS listeners of "Listening on ...; TLS on 127.0.0.1:6697 (kernel TLS off)"; empty
// without them.
std::vector<ListenAddress> parse_tls_listening_status(std::string_view status);

}  // namespace epollchat::test
