#include "daemon/service.hpp"

#include <cstdio>
#include <cstring>
#include <system_error>

#include "build_config.hpp"
#include "cluster/cluster_link.hpp"
#include "core/socket.hpp"
#include "daemon/config_file.hpp"
#include "daemon/systemd.hpp"

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

// The settings the link to Redis is built from, once, at start: a change takes a restart.
bool has_same_link(const Settings& a, const Settings& b) {
  return a.redis == b.redis && a.node_id == b.node_id && a.redis_user == b.redis_user &&
         a.redis_password == b.redis_password;
}

void keep_link(Settings& fresh, const Settings& current) {
  fresh.redis = current.redis;
  fresh.node_id = current.node_id;
  fresh.redis_user = current.redis_user;
  fresh.redis_password_file = current.redis_password_file;
  fresh.redis_password = current.redis_password;
}

}  // namespace

Service::Service(CommandLine command_line, std::string default_config_path, Settings settings)
    : command_line_(std::move(command_line)),
      default_config_path_(std::move(default_config_path)),
      settings_(std::move(settings)),
      log_(settings_.log_level),
      server_(loop_, log_, settings_.server_limits()),
      signals_(loop_, [this](int signal) { handle_signal(signal); }),
      status_timer_(loop_, [this] { report_status(); }),
      watchdog_timer_(loop_, [] { systemd::notify_watchdog(); }),
      shutdown_deadline_(loop_, [this] { deadline_passed_ = true; }) {
  server_.on_status_change([this] { schedule_status_report(); });
  if (!settings_.redis.empty()) {
    // The address was checked when the settings were read.
    server_.link_to_other_nodes([&](chat::NodeLinkHandler& handler) {
      return std::make_unique<cluster::ClusterLink>(
          loop_, log_, *cluster::RedisAddress::parse(settings_.redis),
          cluster::RedisLogin{settings_.redis_user, settings_.redis_password},
          settings_.node_id.empty() ? cluster::random_node_id() : settings_.node_id, handler);
    });
  }
}

Service::~Service() = default;

void Service::open_listeners() {
  std::vector<UniqueFd> passed = systemd::take_listening_sockets();
  socket_activated_ = !passed.empty();
  for (UniqueFd& fd : passed) server_.add_listener(std::move(fd));
  if (socket_activated_) return;

  // Validated when the settings were parsed.
  const auto address = SocketAddress::from_numeric(settings_.listen, settings_.port);
  try {
    server_.add_listener(listen_tcp(*address, kListenBacklog));
  } catch (const std::system_error& failure) {
    throw ListenError("cannot listen on " + address->to_string() + ": " +
                      std::strerror(failure.code().value()));
  }
}

std::string Service::listening_status() const {
  std::string status = "Listening on ";
  bool first = true;
  for (const SocketAddress& address : server_.addresses()) {
    if (!first) status += ", ";
    status += address.to_string();
    first = false;
  }
  return status;
}

void Service::run() {
  open_listeners();
  log_.notice(std::string("epollchatd ") + EPOLLCHAT_VERSION + " " + listening_status() +
              (socket_activated_ ? " (socket activation)" : ""));
  systemd::notify_ready(listening_status());
  server_.start_link();
  if (const auto interval = systemd::watchdog_interval()) {
    watchdog_timer_.arm(*interval / 2, *interval / 2);
  }
  while (!is_finished()) loop_.run_once(-1);
  char longest[32];
  std::snprintf(longest, sizeof longest, "%.1f",
                std::chrono::duration<double, std::milli>(loop_.longest_turn()).count());
  log_.notice(std::string("stopped; longest loop turn ") + longest + " ms");
}

bool Service::is_finished() const noexcept {
  return stopping_ && (!server_.has_sessions() || deadline_passed_);
}

void Service::handle_signal(int signal) {
  if (signal == SIGHUP) {
    reload();
  } else if (stopping_) {
    // A second request: stop waiting for slow clients.
    deadline_passed_ = true;
  } else {
    log_.notice(std::string("received ") + sigabbrev_np(signal) + ", shutting down");
    begin_shutdown();
  }
}

void Service::begin_shutdown() {
  stopping_ = true;
  systemd::notify_stopping();
  server_.begin_shutdown();
  shutdown_deadline_.arm(std::chrono::duration_cast<microseconds>(kShutdownGrace));
}

void Service::reload() {
  systemd::notify_reloading();
  try {
    Settings fresh = load_settings(command_line_, default_config_path_);
    if (!socket_activated_ && (fresh.listen != settings_.listen || fresh.port != settings_.port)) {
      log_.warning("the listen address or port changed; that takes a restart, keeping " +
                   listening_status());
      fresh.listen = settings_.listen;
      fresh.port = settings_.port;
    }
    if (!has_same_link(fresh, settings_)) {
      log_.warning(
          "redis, node-id, redis-user or the Redis password changed; that takes a restart, "
          "keeping the current link");
      keep_link(fresh, settings_);
    }
    server_.apply_limits(fresh.server_limits());
    log_.set_level(fresh.log_level);
    settings_ = std::move(fresh);
    log_.notice("configuration reloaded");
  } catch (const std::exception& failure) {
    log_.error(std::string("reload failed, keeping the previous settings: ") + failure.what());
  }
  systemd::notify_ready(listening_status());
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
  systemd::notify_status(std::to_string(server_.online()) + " clients online, " +
                         std::to_string(server_.relayed()) + " messages relayed" +
                         server_.link_status());
}

}  // namespace epollchat::daemon
