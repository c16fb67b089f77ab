#include "support/daemon_process.hpp"

#include <poll.h>

#include <gtest/gtest.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "support/deadline.hpp"

namespace epollchat::test {
namespace {

// Sanitizer settings must reach the daemon through systemd-socket-activate too.
constexpr std::array kPassThrough{"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};

// UBSan's vptr check asks the kernel whether the vtable is readable by writing it into a
// pipe; when the daemon is out of descriptors (the RLIMIT_NOFILE tests) pipe() fails and the
// check reports "invalid vptr" with "<memory cannot be printed>" for perfectly valid objects.
// Drops those three-line reports, and only those, from a log.
std::string without_fd_starved_vptr_reports(const std::string& log) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < log.size()) {
    const auto end = log.find('\n', start);
    lines.push_back(log.substr(start, end == std::string::npos ? end : end - start));
    start = end == std::string::npos ? log.size() : end + 1;
  }
  std::string kept;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i + 2 < lines.size() && lines[i].find("runtime error: ") != std::string::npos &&
        lines[i].find("which does not point to an object of type") != std::string::npos &&
        lines[i + 1].ends_with("note: object has invalid vptr") &&
        lines[i + 2] == "<memory cannot be printed>") {
      i += 2;
      continue;
    }
    kept += lines[i] + "\n";
  }
  return kept;
}

std::runtime_error start_failure(const std::string& what, const std::string& log) {
  return std::runtime_error("epollchatd " + what + "; its stderr:\n" + log);
}

}  // namespace

void check_daemon_log(pid_t pid, const std::string& log) {
  constexpr std::array kSanitizerReports{"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                         "runtime error:"};
  const bool sanitizer_report =
      std::any_of(kSanitizerReports.begin(), kSanitizerReports.end(),
                  [&](const char* marker) { return log.find(marker) != std::string::npos; });
  if (sanitizer_report) {
    ADD_FAILURE() << "epollchatd (pid " << pid << ") reported a sanitizer error:\n" << log;
  } else if (::testing::Test::HasFailure()) {
    std::cerr << "---- epollchatd stderr (pid " << pid << ") ----\n"
              << log << "---- end of epollchatd stderr ----\n";
  }
}

std::string daemon_path() {
  const char* path = std::getenv("EPOLLCHATD");
  if (path == nullptr || *path == '\0') {
    throw std::runtime_error("EPOLLCHATD is not set (meson passes the built daemon's path)");
  }
  return path;
}

std::string socket_activate_path() {
  const char* path = std::getenv("SYSTEMD_SOCKET_ACTIVATE");
  return path != nullptr && *path != '\0' ? path : "/usr/bin/systemd-socket-activate";
}

namespace {

// "127.0.0.1:8888, [::1]:8888"; empty if an entry does not parse.
std::vector<ListenAddress> parse_addresses(std::string_view status) {
  std::vector<ListenAddress> result;
  while (!status.empty()) {
    const auto comma = status.find(", ");
    const auto item = status.substr(0, comma);
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos) return {};
    auto host = item.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    const auto digits = item.substr(colon + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc{} || end != digits.data() + digits.size() || value > 65535) return {};
    result.push_back({std::string(host), static_cast<std::uint16_t>(value)});
    if (comma == std::string_view::npos) break;
    status.remove_prefix(comma + 2);
  }
  return result;
}

constexpr std::string_view kTlsPart = "; TLS on ";

}  // namespace

std::vector<ListenAddress> parse_listening_status(std::string_view status) {
  constexpr std::string_view kPrefix = "Listening on ";
  if (!status.starts_with(kPrefix)) return {};
  status.remove_prefix(kPrefix.size());
  return parse_addresses(status.substr(0, status.find(kTlsPart)));
}

std::vector<ListenAddress> parse_tls_listening_status(std::string_view status) {
  const auto at = status.find(kTlsPart);
  if (at == std::string_view::npos) return {};
  status.remove_prefix(at + kTlsPart.size());
  return parse_addresses(status.substr(0, status.find(" (")));
}

DaemonProcess::DaemonProcess(DaemonOptions options) : options_(std::move(options)) {
  std::vector<std::string> daemon_argv{daemon_path()};
  if (options_.listen) daemon_argv.insert(daemon_argv.end(), {"--listen", *options_.listen});
  if (options_.port) daemon_argv.insert(daemon_argv.end(), {"--port", *options_.port});
  if (options_.config_text) {
    config_path_ = dir_.write("epollchatd.conf", *options_.config_text);
    daemon_argv.insert(daemon_argv.end(), {"-c", config_path_.string()});
  }
  daemon_argv.insert(daemon_argv.end(), options_.extra_args.begin(), options_.extra_args.end());

  SpawnSpec spec;
  spec.env = clean_environment();
  set_environment(spec.env, "NOTIFY_SOCKET", notify_.address());
  for (const auto& [key, value] : options_.env) set_environment(spec.env, key, value);
  if (options_.stderr_is_journal) {
    set_environment(spec.env, "JOURNAL_STREAM", journal_stream_of(output_.write_fd()));
  }
  spec.stdout_fd = output_.write_fd();
  spec.stderr_fd = output_.write_fd();
  spec.nofile_limit = options_.nofile_limit;
  if (options_.nofile_limit) {
    // See without_fd_starved_vptr_reports(): a descriptor-starved daemon must not abort on
    // UBSan's false vptr reports; every other report still fails the test (checked below).
    const char* inherited = std::getenv("UBSAN_OPTIONS");
    set_environment(spec.env, "UBSAN_OPTIONS",
                    std::string(inherited != nullptr ? inherited : "") + ":halt_on_error=0");
  }
  spec.export_watchdog_pid = options_.export_watchdog_pid;

  if (options_.socket_activation_listen.empty()) {
    spec.argv = std::move(daemon_argv);
  } else {
    // systemd-socket-activate hands the daemon only the variables named with -E. It execs the
    // daemon in place, so the pid (and WATCHDOG_PID) stays the same.
    spec.argv = {socket_activate_path()};
    for (const auto& address : options_.socket_activation_listen) {
      spec.argv.insert(spec.argv.end(), {"-l", address});
    }
    if (!options_.socket_activation_fdnames.empty()) {
      spec.argv.push_back("--fdname=" + options_.socket_activation_fdnames);
    }
    spec.argv.insert(spec.argv.end(), {"-E", "NOTIFY_SOCKET"});
    for (const auto& entry : options_.env) spec.argv.insert(spec.argv.end(), {"-E", entry.first});
    if (options_.export_watchdog_pid) spec.argv.insert(spec.argv.end(), {"-E", "WATCHDOG_PID"});
    if (options_.stderr_is_journal) spec.argv.insert(spec.argv.end(), {"-E", "JOURNAL_STREAM"});
    for (const char* name : kPassThrough) {
      if (std::getenv(name) != nullptr) spec.argv.insert(spec.argv.end(), {"-E", name});
    }
    spec.argv.push_back("--");
    spec.argv.insert(spec.argv.end(), daemon_argv.begin(), daemon_argv.end());
  }

  child_ = std::make_unique<ChildProcess>(ChildProcess::spawn(spec));
  output_.close_write_end();

  if (options_.socket_activation_listen.empty()) {
    wait_ready();
    return;
  }
  // systemd-socket-activate says "Listening on ADDR as FD." for each socket, then waits for
  // the first connection before it execs the daemon.
  for (const auto& address : options_.socket_activation_listen) {
    if (!output_.wait_for("Listening on " + address + " as ", options_.ready_timeout)) {
      throw start_failure("under systemd-socket-activate never listened on " + address,
                          output_.text());
    }
  }
}

DaemonProcess::~DaemonProcess() {
  // Stop it the way systemd would, so a sanitizer build gets to run its exit-time checks
  // (LeakSanitizer) and a report lands in the log; SIGKILL (by child_) only if that hangs.
  if (!child_->has_exited()) {
    try {
      child_->send_signal(SIGTERM);
      child_->wait_exit(std::chrono::seconds(10));
    } catch (const std::exception&) {
      // The child is gone already; nothing to stop.
    }
  }
  if (child_->has_exited()) output_.wait_for_eof(std::chrono::seconds(2));
  const std::string log =
      options_.nofile_limit ? without_fd_starved_vptr_reports(output_.text()) : output_.text();
  check_daemon_log(child_->pid(), log);
}

void DaemonProcess::wait_ready() {
  const Deadline deadline(options_.ready_timeout);
  for (;;) {
    // Drain what already arrived before looking at the pidfd: a daemon may send READY=1 and
    // exit at once, and the datagram must still count.
    while (auto message = notify_.receive(std::chrono::milliseconds(0))) {
      if (!message->has("READY=1")) continue;
      ready_message_ = message;
      listeners_ = parse_listening_status(message->field("STATUS").value_or(""));
      if (listeners_.empty()) {
        throw start_failure(
            "sent READY=1 without a parsable 'STATUS=Listening on ...': '" + message->text + "'",
            output_.text());
      }
      return;
    }
    if (child_->has_exited()) {
      const auto status = child_->wait_exit(std::chrono::seconds(1));
      output_.wait_for_eof(std::chrono::seconds(2));
      throw start_failure(status ? status->describe() + " before READY=1" : "exited before READY=1",
                          output_.text());
    }
    if (deadline.has_expired()) {
      throw start_failure(
          "sent no READY=1 within " + std::to_string(options_.ready_timeout.count()) + " ms",
          output_.text());
    }
    std::array<pollfd, 2> fds{{{notify_.fd(), POLLIN, 0}, {child_->pidfd(), POLLIN, 0}}};
    ::poll(fds.data(), fds.size(), deadline.poll_timeout());
  }
}

std::uint16_t DaemonProcess::tls_port() const {
  const auto tls = parse_tls_listening_status(ready_message().field("STATUS").value_or(""));
  if (tls.empty()) throw std::logic_error("tls_port(): the daemon listens for no TLS clients");
  return tls.front().port;
}

std::uint16_t DaemonProcess::port() const {
  if (listeners_.empty()) throw std::logic_error("port(): the daemon has not sent READY=1 yet");
  return listeners_.front().port;
}

void DaemonProcess::write_config(const std::string& text) const {
  if (config_path_.empty()) throw std::logic_error("write_config: started without -c");
  dir_.write(config_path_.filename().string(), text);
}

}  // namespace epollchat::test
