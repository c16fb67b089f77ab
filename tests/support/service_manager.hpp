// ServiceManager: plays systemd's part for epollchatd across restarts: the notification
// socket, the file descriptor store, and the (re)start that hands the stored fds back.
//
// Owns: a NotifySocket read by a thread of its own from the first launch to the destructor
// (the daemon sends one FDSTORE datagram per accepted client, and its sd_notify() would
// block once ten wait unread); the store, name -> fds received with SCM_RIGHTS, kept as
// systemd >= 252 keeps them: FDSTORE=1 appends under FDNAME= (or "stored"); a file already
// in the store under any name is not added twice (systemd compares the files); the store
// holds at most FDSTORE=<n> fds; FDSTOREREMOVE=1 drops every fd of the name; a stored fd
// polled (unless FDPOLL=0) that shows POLLHUP or POLLERR is dropped; fds on any other
// message (BARRIER=1's pipe) are closed at once. Also the current daemon process, and the
// captured stderr of every process it launched.
// Each launch runs $EPOLLCHATD --listen 127.0.0.1 --port 0 -c FILE, with NOTIFY_SOCKET,
// FDSTORE=<n> (unless turned off), DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent (so no
// bus can answer whether a stop is a restart) and, when the store is not empty, the stored
// fds at 3.. with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (the daemon's own pid), after
// the socket units' listeners if there are any, as systemd orders them.
// Never: sleeps: every wait is on the pidfd, a datagram or a change of the store, bounded
// by a deadline; the first failure of the reader thread is kept in error().
// Lifetime: the destructor stops a daemon still running with SIGTERM (SIGKILL if that
// hangs), fails the test on a sanitizer report in any process's log, then closes the
// store: a client whose socket only the store held sees its connection close then.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/exit_status.hpp"
#include "support/notify_socket.hpp"
#include "support/output_capture.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {

struct ServiceManagerOptions {
  // Appended after --listen 127.0.0.1 --port 0 -c FILE.
  std::vector<std::string> extra_args;
  // The config file's text (empty by default, so no config under /etc leaks in).
  std::string config_text;
  // FileDescriptorStoreMax=: exported as FDSTORE=<n>. nullopt: no FDSTORE in the daemon's
  // environment, so it must not use the store at all.
  std::optional<std::size_t> fd_store_max = 4096;
  // Extra environment for the daemon.
  std::map<std::string, std::string> env;
  // Socket units: for each name, a listening socket on 127.0.0.1 (kernel-chosen port) that
  // the manager binds once and passes first, under that name, at every launch.
  std::vector<std::string> activated_names;
  // RLIMIT_NOFILE for the daemon (capped at this process's hard limit).
  rlim_t nofile_limit = 8192;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(20)};
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(30)};
};

class ServiceManager {
 public:
  // Starts the daemon (with an empty store) and waits for READY=1; throws std::runtime_error
  // with its log if it fails to get there.
  explicit ServiceManager(ServiceManagerOptions options = {});
  ServiceManager(const ServiceManager&) = delete;
  ServiceManager& operator=(const ServiceManager&) = delete;
  ~ServiceManager();

  // The first listener's port from the latest READY=1's STATUS=.
  [[nodiscard]] std::uint16_t port() const;
  // The first TLS listener's port from the latest READY=1's STATUS=; throws without one.
  [[nodiscard]] std::uint16_t tls_port() const;
  [[nodiscard]] pid_t pid() const;
  [[nodiscard]] bool has_exited() const { return child_->has_exited(); }

  // A planned restart: SIGTERM, wait for the exit, take every datagram sent before it,
  // launch a new process with the store, wait for READY=1. Returns the old process's exit.
  ExitStatus restart();
  // The same after SIGKILL: what a crash or a watchdog abort leaves behind.
  ExitStatus kill_and_restart();
  // The halves of a restart, for a test that acts in between: sends `signal`, waits for the
  // exit, for every datagram sent before it and for the end of its log; throws
  // std::runtime_error on timeout.
  ExitStatus stop(int signal);
  // stop() in two steps, for a test that signals more than once.
  void send_signal(int signal) const { child_->send_signal(signal); }
  ExitStatus wait_stopped();
  // Launches a new process with what the store holds and waits for READY=1.
  void relaunch();
  // The arguments after --listen 127.0.0.1 --port 0 -c FILE from the next launch on.
  void set_extra_args(std::vector<std::string> args) { options_.extra_args = std::move(args); }
  // The port of the socket-activated listener options.activated_names[index].
  [[nodiscard]] std::uint16_t activated_port(std::size_t index) const;

  // The names of the stored fds, one entry per fd, sorted.
  [[nodiscard]] std::vector<std::string> stored_names() const;
  [[nodiscard]] std::size_t stored_count(std::string_view name) const;
  // Waits until condition(stored_names()) holds, re-checked after each change of the store.
  bool wait_for_store(const std::function<bool(const std::vector<std::string>&)>& condition,
                      std::chrono::milliseconds timeout);
  // The bytes of the stored `state` memfd; nullopt without one.
  [[nodiscard]] std::optional<std::string> stored_state() const;
  // F_GET_SEALS of the stored `state` memfd; nullopt without one.
  [[nodiscard]] std::optional<int> stored_state_seals() const;
  // Replaces every stored `state` fd by a new sealed memfd holding `bytes` (FDPOLL=0).
  void replace_state(std::string_view bytes);

  // Every datagram received so far, in order.
  [[nodiscard]] std::vector<NotifyMessage> messages() const;
  // Waits for a datagram satisfying `matches` among those received from index `from` on.
  std::optional<NotifyMessage> wait_for_message(
      const std::function<bool(const NotifyMessage&)>& matches, std::chrono::milliseconds timeout,
      std::size_t from = 0);
  [[nodiscard]] std::size_t message_count() const;

  // The stderr of every process launched so far, oldest first.
  [[nodiscard]] std::string log() const;
  // Waits until the current process's stderr contains `needle`.
  bool wait_for_log(std::string_view needle, std::chrono::milliseconds timeout) const;

  // The first failure of the reader thread, or "".
  [[nodiscard]] std::string error() const;

 private:
  struct StoredFd {
    std::string name;
    UniqueFd fd;
    std::uint64_t key = 0;  // its epoll key; 0 when not polled
    dev_t device = 0;
    ino_t inode = 0;
  };
  struct Launch {
    pid_t pid = 0;
    std::unique_ptr<OutputCapture> output;
  };

  void launch();
  void wait_ready(std::size_t from);
  void run_reader();
  void receive_all();
  void handle(const std::string& text, std::vector<UniqueFd> fds);
  void store(const std::string& name, UniqueFd fd, bool poll);  // with mutex_ held
  void remove_stored(std::string_view name);                    // with mutex_ held
  void drop_hung_up(std::uint64_t key);
  // Waits until the reader has handled every datagram queued before the call.
  void drain();
  void fail(const std::string& what);
  void fail_locked(const std::string& what);  // with mutex_ held

  ServiceManagerOptions options_;
  TempDir dir_;
  std::string config_path_;
  NotifySocket notify_;
  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd: a drain request or the end of the reader

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<StoredFd> store_;
  std::uint64_t next_key_ = 2;  // 0: the notify socket, 1: wake_
  std::vector<NotifyMessage> messages_;
  std::uint64_t drains_requested_ = 0;
  std::uint64_t drains_done_ = 0;
  bool stopping_ = false;
  std::string error_;

  std::unique_ptr<ChildProcess> child_;
  std::vector<Launch> launches_;
  std::vector<ListenAddress> listeners_;
  std::vector<UniqueFd> activated_;  // in the order of options_.activated_names
  std::string ready_status_;         // STATUS= of the latest READY=1
  std::thread reader_;
};

}  // namespace epollchat::test
