// What the service manager means by a SIGTERM: the stop of a `systemctl stop`, or the
// first half of a `systemctl restart` (which the package's postinst runs on upgrade).
// Only the job systemd has queued for the unit tells them apart; the signal is the same.
//
// The only file that uses sd-bus. Asks once per stop, with a short timeout.
#pragma once

namespace epollchat::daemon {

enum class StopPurpose {
  stop,     // the unit's job is a stop (or it has none): the end of the service
  restart,  // the unit's job is a restart: a new process follows at once
  unknown,  // no service manager answered (no system bus, or not started as a unit)
};

[[nodiscard]] StopPurpose ask_stop_purpose();

}  // namespace epollchat::daemon
