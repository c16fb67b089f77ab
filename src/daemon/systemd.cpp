#include "daemon/systemd.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

namespace epollchat::daemon::systemd {
namespace {

void notify(const std::string& message) {
  // Failures are not actionable: the service manager went away or never listened.
  (void)sd_notify(0, message.c_str());
}

}  // namespace

void notify_ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void notify_status(std::string_view status) { notify("STATUS=" + std::string(status)); }

void notify_reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { notify("STOPPING=1"); }

void notify_watchdog() { notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

std::vector<PassedFd> take_passed_fds() {
  // unset_environment = 1: children (none today) must not think the descriptors are theirs.
  char** names = nullptr;
  const int count = sd_listen_fds_with_names(1, &names);
  if (count < 0) throw std::system_error(-count, std::generic_category(), "sd_listen_fds");
  std::vector<PassedFd> passed;
  passed.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    passed.push_back({UniqueFd(SD_LISTEN_FDS_START + i),
                      names != nullptr && names[i] != nullptr ? names[i] : ""});
    std::free(names != nullptr ? names[i] : nullptr);
  }
  std::free(names);
  return passed;
}

void check_listening(const PassedFd& passed) {
  const int fd = passed.fd.get();
  const int is_listener = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
  if (is_listener < 0) {
    throw std::system_error(-is_listener, std::generic_category(), "sd_is_socket");
  }
  if (is_listener == 0) {
    throw std::system_error(ENOTSOCK, std::generic_category(),
                            "passed fd " + std::to_string(fd) + " (" + passed.name +
                                ") is not a listening stream socket");
  }
}

}  // namespace epollchat::daemon::systemd
