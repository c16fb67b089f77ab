#include "daemon/signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace epollchat::daemon {
namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

Signals::Signals(EventLoop& loop, std::function<void(int)> on_signal)
    : loop_(loop), on_signal_(std::move(on_signal)) {
  const sigset_t set = handled_signals();
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "sigprocmask");
  }
  std::signal(SIGPIPE, SIG_IGN);
  fd_.reset(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_) throw std::system_error(errno, std::generic_category(), "signalfd");
  loop_.watch(fd_.get(), EPOLLIN, *this);
}

Signals::~Signals() { loop_.unwatch(fd_.get(), *this); }

void Signals::on_events(std::uint32_t /*events*/) {
  signalfd_siginfo info{};
  // Level-triggered: read until empty so two signals in one turn are both seen.
  for (;;) {
    const ssize_t n = read(fd_.get(), &info, sizeof info);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof info)) return;
    on_signal_(static_cast<int>(info.ssi_signo));
  }
}

}  // namespace epollchat::daemon
