#include "daemon/service.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "build_config.hpp"
#include "cluster/cluster_link.hpp"
#include "core/counted.hpp"
#include "core/socket.hpp"
#include "daemon/config_file.hpp"
#include "daemon/systemd.hpp"
#include "daemon/tls_credentials.hpp"
#include "daemon/unit_job.hpp"

namespace epollchat::daemon {
namespace {

using std::chrono::microseconds;
using Clock = std::chrono::steady_clock;

// STATUS= at most this often: systemctl status shows it, and nobody reads faster.
constexpr auto kStatusInterval = std::chrono::seconds(1);
// How long clients get to receive the shutdown notice and what was queued before it.
constexpr auto kShutdownGrace = std::chrono::seconds(3);
// Pending connections the kernel may queue; SOMAXCONN caps it anyway.
constexpr int kListenBacklog = 4096;
// The FileDescriptorName= of a passed socket whose clients speak TLS.
constexpr std::string_view kTlsSocketName = "tls";

std::string joined(const std::vector<SocketAddress>& addresses) {
  std::string text;
  for (const SocketAddress& address : addresses) {
    if (!text.empty()) text += ", ";
    text += address.to_string();
  }
  return text;
}

// The settings a reload cannot apply, because the listeners and the link to Redis are made
// once, at start: the keys that differ between `current` and `fresh`, which keeps the
// current values of them all. Under socket activation the listeners are systemd's, so the
// listener keys are reported too: a change to them takes effect with neither a reload nor a
// restart of this service alone.
std::vector<std::string> keep_what_needs_restart(Settings& fresh, const Settings& current) {
  std::vector<std::string> changed;
  const auto keep = [&](auto Settings::*field, const char* key) {
    if (fresh.*field == current.*field) return;
    changed.emplace_back(key);
    fresh.*field = current.*field;
  };
  keep(&Settings::listen, "listen");
  keep(&Settings::port, "port");
  keep(&Settings::tls_port, "tls-port");
  keep(&Settings::redis, "redis");
  keep(&Settings::node_id, "node-id");
  keep(&Settings::redis_user, "redis-user");
  if (fresh.redis_password_file != current.redis_password_file) {
    keep(&Settings::redis_password_file, "redis-password-file");
    fresh.redis_password = current.redis_password;
  } else {
    // The same file (or the credential) with a new password in it.
    keep(&Settings::redis_password, "the Redis password");
  }
  return changed;
}

// The first line of the log, one sentence: "epollchatd 1.2.0 listening on 127.0.0.1:8888
// (TLS on 127.0.0.1:6697, kernel TLS off); up to 1024 clients."
std::string start_sentence(const chat::Server& server, bool tls, bool socket_activated,
                           std::size_t max_clients) {
  std::string text = std::string("epollchatd ") + EPOLLCHAT_VERSION + " listening on ";
  const std::string plain = joined(server.addresses());
  const std::string kernel_tls = std::string("kernel TLS ") + (kernel_offers_tls() ? "on" : "off");
  if (!tls) {
    text += plain;
  } else if (plain.empty()) {
    text += joined(server.tls_addresses()) + " (TLS only, " + kernel_tls + ")";
  } else {
    text += plain + " (TLS on " + joined(server.tls_addresses()) + ", " + kernel_tls + ")";
  }
  if (socket_activated) text += " on sockets passed by systemd";
  return text + "; up to " + counted(max_clients, "client", "clients") + ".";
}

std::string comma_separated(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace

Service::Service(CommandLine command_line, std::string default_config_path, Settings settings)
    : command_line_(std::move(command_line)),
      default_config_path_(std::move(default_config_path)),
      settings_(std::move(settings)),
      log_(settings_.log_level),
      store_(log_, FdStore::capacity_from_environment()),
      server_(loop_, log_, settings_.server_limits()),
      signals_(loop_, [this](int signal) { handle_signal(signal); }),
      status_timer_(loop_, [this] { report_status(); }),
      watchdog_timer_(loop_, [] { systemd::notify_watchdog(); }),
      shutdown_deadline_(loop_, [this] { deadline_passed_ = true; }) {
  server_.on_status_change([this] { schedule_status_report(); });
}

Service::~Service() = default;

void Service::link_to_other_nodes(const chat::SavedState* saved) {
  if (settings_.redis.empty()) return;
  // A restarted node keeps its id, so that its clients keep their names on every node, and
  // its instance, so that the others see it carry on rather than lose all its clients.
  std::string node_id = settings_.node_id;
  std::string instance;
  if (saved != nullptr && (node_id.empty() || node_id == saved->node_id)) {
    node_id = saved->node_id;
    instance = saved->instance;
  }
  if (node_id.empty()) node_id = cluster::random_node_id();
  // The address was checked when the settings were read.
  server_.link_to_other_nodes([&](chat::NodeLinkHandler& handler) {
    return std::make_unique<cluster::ClusterLink>(
        loop_, log_, *cluster::RedisAddress::parse(settings_.redis),
        cluster::RedisLogin{settings_.redis_user, settings_.redis_password}, node_id, instance,
        handler);
  });
}

Service::Passed Service::sort_passed(std::vector<systemd::PassedFd> passed) {
  Passed sorted;
  for (systemd::PassedFd& fd : passed) {
    if (fd.name == kStoredListenerName) {
      sorted.listener = std::move(fd.fd);
      store_.adopt(fd.name);
    } else if (fd.name == kStoredTlsListenerName) {
      sorted.tls_listener = std::move(fd.fd);
      store_.adopt(fd.name);
    } else if (fd.name == kStoredStateName) {
      sorted.state = std::move(fd.fd);
      store_.adopt(fd.name);
    } else if (const auto id = stored_client_id(fd.name)) {
      sorted.clients.emplace(*id, std::move(fd.fd));
      store_.adopt(fd.name);
    } else {
      systemd::check_listening(fd);
      sorted.activated.push_back(std::move(fd));
    }
  }
  return sorted;
}

void Service::open_listeners(Passed& passed) {
  socket_activated_ = !passed.activated.empty();
  const bool passed_tls =
      std::any_of(passed.activated.begin(), passed.activated.end(),
                  [](const auto& socket) { return socket.name == kTlsSocketName; });
  serves_tls_ = socket_activated_ ? passed_tls : settings_.tls_port.has_value();
  if (serves_tls_) {
    // Before listening: a TLS listener without a usable certificate is a configuration error.
    server_.set_tls_context(load_tls_context(settings_));
  }
  for (systemd::PassedFd& socket : passed.activated) {
    if (socket.name == kTlsSocketName) {
      server_.add_tls_listener(std::move(socket.fd));
    } else {
      server_.add_listener(std::move(socket.fd));
    }
  }
  if (socket_activated_) {
    // The socket units' listeners replace any the daemon kept itself.
    store_.remove(kStoredListenerName);
    store_.remove(kStoredTlsListenerName);
    return;
  }

  // Validated when the settings were parsed.
  add_listener(*SocketAddress::from_numeric(settings_.listen, settings_.port), false,
               std::move(passed.listener));
  if (settings_.tls_port) {
    add_listener(*SocketAddress::from_numeric(settings_.listen, *settings_.tls_port), true,
                 std::move(passed.tls_listener));
  } else {
    store_.remove(kStoredTlsListenerName);
  }
}

void Service::add_listener(const SocketAddress& address, bool tls, UniqueFd stored) {
  const std::string_view name = tls ? kStoredTlsListenerName : kStoredListenerName;
  UniqueFd listening;
  if (stored) {
    try {
      const SocketAddress bound = SocketAddress::local_of(stored.get());
      // Port 0 asks for any port: the one the kernel chose before is as good as another.
      if (host_text(bound) == host_text(address) &&
          (address.port() == 0 || bound.port() == address.port())) {
        listening = std::move(stored);
      }
    } catch (const std::system_error&) {
      // Not a socket any more: bound afresh below.
    }
    if (!listening) store_.remove(name);
  }
  if (!listening) {
    try {
      listening = listen_tcp(address, kListenBacklog);
    } catch (const std::system_error& failure) {
      throw ListenError("cannot listen on " + address.to_string() + ": " +
                        std::strerror(failure.code().value()));
    }
    (void)store_.store(name, listening.get());
  }
  if (tls) {
    server_.add_tls_listener(std::move(listening));
  } else {
    server_.add_listener(std::move(listening));
  }
}

std::string Service::listening_status() const {
  std::string status = "Listening on " + joined(server_.addresses());
  if (serves_tls_) {
    status += "; TLS on " + joined(server_.tls_addresses()) + " (kernel TLS " +
              (kernel_offers_tls() ? "on" : "off") + ")";
  }
  return status;
}

void Service::run() {
  Passed passed = sort_passed(systemd::take_passed_fds());
  open_listeners(passed);
  log_.notice(start_sentence(server_, serves_tls_, socket_activated_, settings_.max_clients));
  check_store_size();
  const Handover handover = read_saved_state(passed);
  link_to_other_nodes(handover.state ? &*handover.state : nullptr);
  take_back_clients(passed, handover);
  if (serves_tls_) log_.info("TLS certificate " + server_.tls_certificate_summary());
  status_ = listening_status();
  systemd::notify_ready(status_);
  server_.start_link();
  if (const auto interval = systemd::watchdog_interval()) {
    watchdog_timer_.arm(*interval / 2, *interval / 2);
  }
  while (!is_finished()) loop_.run_once(-1);
  // From here on, a client closing is this process letting go (or the shutdown that already
  // emptied the store), not the client leaving.
  server_.keep_sockets_with(nullptr);
  if (restarting_) hand_on();
  char longest[32];
  std::snprintf(longest, sizeof longest, "%.1f",
                std::chrono::duration<double, std::milli>(loop_.longest_turn()).count());
  log_.notice(std::string("stopped; longest loop turn ") + longest + " ms");
}

bool Service::is_finished() const noexcept {
  if (restarting_) return deadline_passed_ || server_.is_ready_to_hand_on();
  return stopping_ && (!server_.has_sessions() || deadline_passed_);
}

void Service::handle_signal(int signal) {
  if (signal == SIGHUP) {
    reload();
  } else if (stopping_) {
    // A second request: stop waiting for slow clients.
    deadline_passed_ = true;
  } else if (signal == SIGTERM && is_restart_planned()) {
    log_.notice("received SIGTERM, restarting");
    begin_restart();
  } else {
    log_.notice(std::string("received SIG") + sigabbrev_np(signal) + ", shutting down");
    begin_shutdown();
  }
}

void Service::begin_shutdown() {
  stopping_ = true;
  // The service ends: the store keeps nothing of it.
  store_.clear();
  systemd::notify_stopping();
  server_.begin_shutdown();
  shutdown_deadline_.arm(std::chrono::duration_cast<microseconds>(kShutdownGrace));
}

void Service::reload() {
  systemd::notify_reloading();
  try {
    Settings fresh = load_settings(command_line_, default_config_path_);
    // Compared with what runs, not with the last file: the note stays until a restart or
    // until the file says again what runs.
    const std::vector<std::string> not_applied = keep_what_needs_restart(fresh, settings_);
    restart_needed_ = comma_separated(not_applied);
    if (!not_applied.empty()) log_.warning("reload: restart needed for: " + restart_needed_);
    if (serves_tls_) {
      // New connections use the new pair; a pair that cannot be used was refused above
      // (load_settings) or here, and the previous one stays.
      server_.set_tls_context(load_tls_context(fresh));
      log_.notice("TLS certificate reloaded: " + server_.tls_certificate_summary());
    }
    server_.apply_limits(fresh.server_limits());
    log_.set_level(fresh.log_level);
    settings_ = std::move(fresh);
    check_store_size();
    log_.notice("configuration reloaded");
  } catch (const std::exception& failure) {
    log_.error(std::string("reload failed, keeping the previous settings: ") + failure.what());
  }
  // The status line as it was, counts included.
  systemd::notify_ready(status_line());
}

std::string Service::status_line() const {
  return restart_needed_.empty() ? status_ : status_ + "; restart needed for: " + restart_needed_;
}

void Service::schedule_status_report() {
  if (status_timer_.is_armed()) return;
  const auto due = last_status_report_ + kStatusInterval;
  const auto now = Clock::now();
  status_timer_.arm(due > now ? std::chrono::duration_cast<microseconds>(due - now)
                              : microseconds::zero());
}

void Service::report_status() {
  last_status_report_ = Clock::now();
  server_.take_status_change();
  std::string status = counted(server_.online(), "client", "clients") + " online";
  if (serves_tls_) status += " (" + std::to_string(server_.encrypted_clients()) + " over TLS)";
  status_ = status + ", " + counted(server_.relayed(), "message", "messages") + " relayed" +
            server_.link_status();
  systemd::notify_status(status_line());
}

}  // namespace epollchat::daemon
