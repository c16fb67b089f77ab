// Service: the running daemon — the loop, the server, and everything the process answers
// for: signals, reloads, the status and watchdog reports to systemd, the shutdown, and
// restarts that keep the clients connected through systemd's file descriptor store
// (service_restart.cpp).
//
// Owns: the event loop, the log's level, the server, the signal and timer watchers.
// Never: exits; run() returns and main turns the outcome into an exit status.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chat/server.hpp"
#include "core/event_loop.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "daemon/command_line.hpp"
#include "daemon/fd_store.hpp"
#include "daemon/settings.hpp"
#include "daemon/signals.hpp"
#include "daemon/systemd.hpp"

namespace epollchat::daemon {

// Binding failed: "cannot listen on 127.0.0.1:8888: Address already in use".
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Service {
 public:
  // `settings` were loaded from `command_line` (and `default_config_path` if it has none);
  // a reload loads them again the same way.
  Service(CommandLine command_line, std::string default_config_path, Settings settings);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Listens (or takes the sockets systemd passed), takes back the clients of a previous
  // process, serves until SIGTERM or SIGINT, then shuts down or hands the clients on to
  // the next process. Throws ListenError or std::system_error on setup failures.
  void run();

 private:
  // What was passed at start, sorted by name.
  struct Passed {
    std::vector<systemd::PassedFd> activated;  // listeners of socket units
    UniqueFd listener;                         // stored by a previous process
    UniqueFd tls_listener;
    std::map<std::uint64_t, UniqueFd> clients;
    UniqueFd state;
  };
  // The saved state, if there was one: restored, or why not.
  struct Handover {
    bool present = false;
    std::optional<chat::SavedState> state;
    std::string refusal;
  };

  [[nodiscard]] Passed sort_passed(std::vector<systemd::PassedFd> passed);
  void open_listeners(Passed& passed);
  // Listens on `address`, with the socket a previous process stored for it if it is bound
  // there (so it never closed in between), and keeps it in the store.
  void add_listener(const SocketAddress& address, bool tls, UniqueFd stored);
  // Links to the other nodes if the settings say so, as the node `saved` was (if any).
  void link_to_other_nodes(const chat::SavedState* saved);
  [[nodiscard]] Handover read_saved_state(Passed& passed);
  void take_back_clients(Passed& passed, const Handover& handover);
  // Warns when the store cannot hold a socket for every client max-clients allows.
  void check_store_size() const;
  [[nodiscard]] bool is_restart_planned();
  void begin_restart();
  void hand_on();
  void handle_signal(int signal);
  void reload();
  void begin_shutdown();
  void report_status();
  void schedule_status_report();
  [[nodiscard]] std::string listening_status() const;
  // What STATUS= says: the last report, then what a reload could not apply.
  [[nodiscard]] std::string status_line() const;
  [[nodiscard]] bool is_finished() const noexcept;

  CommandLine command_line_;
  std::string default_config_path_;
  Settings settings_;
  Log log_;
  // Before the server, which tells it of clients until the end.
  FdStore store_;
  EventLoop loop_;
  chat::Server server_;
  Signals signals_;
  Timer status_timer_;
  Timer watchdog_timer_;
  Timer shutdown_deadline_;
  std::chrono::steady_clock::time_point last_status_report_{};
  // The last STATUS= report: where the daemon listens, then its counts.
  std::string status_;
  // The keys a reload found changed but could not apply ("port, redis"), or "".
  std::string restart_needed_;
  bool socket_activated_ = false;
  bool serves_tls_ = false;
  bool stopping_ = false;
  bool restarting_ = false;
  bool deadline_passed_ = false;
};

}  // namespace epollchat::daemon
