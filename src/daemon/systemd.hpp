// The daemon's dealings with systemd: notifications and socket activation.
//
// The only file that calls libsystemd. Every call is a no-op outside systemd (no
// NOTIFY_SOCKET, no LISTEN_FDS), so the daemon runs the same by hand.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"

namespace epollchat::daemon::systemd {

void notify_ready(std::string_view status);
void notify_status(std::string_view status);
// RELOADING=1 with MONOTONIC_USEC=, as systemd.service(5) asks of a reloading service.
void notify_reloading();
void notify_stopping();
void notify_watchdog();

// The interval at which WATCHDOG=1 must arrive, if the service manager asked for it.
std::optional<std::chrono::microseconds> watchdog_interval();

// A descriptor passed at start, with its name: a socket unit's FileDescriptorName= ("tls"
// for the TLS listener; the socket unit's name unless set), or the FDNAME= it was stored
// under in the file descriptor store.
struct PassedFd {
  UniqueFd fd;
  std::string name;
};
// The descriptors passed at start (none when neither socket-activated nor restarted with a
// file descriptor store); throws std::system_error.
std::vector<PassedFd> take_passed_fds();
// Throws std::system_error unless `passed` is a listening stream socket.
void check_listening(const PassedFd& passed);

}  // namespace epollchat::daemon::systemd
