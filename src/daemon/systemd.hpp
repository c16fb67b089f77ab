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

// A socket passed by socket activation, with its FileDescriptorName= ("tls" for the TLS
// listener; the socket unit's name unless set).
struct PassedSocket {
  UniqueFd fd;
  std::string name;
};
// Sockets passed by socket activation (none when not activated). Each is checked to be a
// listening stream socket; throws std::system_error otherwise.
std::vector<PassedSocket> take_listening_sockets();

}  // namespace epollchat::daemon::systemd
