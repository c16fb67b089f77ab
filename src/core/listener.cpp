#include "core/listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>

namespace epollchat {
namespace {

// Enough to take a burst of connections quickly, small enough that a connect storm
// cannot delay the clients already chatting by more than a few hundred microseconds.
constexpr int kAcceptsPerTurn = 64;

UniqueFd open_reserve() noexcept { return UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)); }

}  // namespace

Listener::Listener(EventLoop& loop, UniqueFd listening, ListenerHandler& handler)
    : loop_(loop),
      fd_(std::move(listening)),
      reserve_(open_reserve()),
      handler_(handler),
      retry_timer_(loop, [this] { on_events(EPOLLIN); }) {
  set_nonblocking(fd_.get());
  address_ = SocketAddress::local_of(fd_.get());
  loop_.watch(fd_.get(), EPOLLIN | EPOLLET, *this);
}

Listener::~Listener() { stop(); }

void Listener::stop() noexcept {
  if (!fd_) return;
  retry_timer_.disarm();
  loop_.unwatch(fd_.get(), *this);
  fd_.reset();
}

void Listener::retry_later() {
  if (!retry_timer_.is_armed()) {
    retry_timer_.arm(std::chrono::duration_cast<std::chrono::microseconds>(kRetryDelay));
  }
}

void Listener::on_events(std::uint32_t /*events*/) {
  for (int accepted = 0; fd_;) {
    if (accepted == kAcceptsPerTurn) {
      loop_.resume_next_turn(*this);
      return;
    }
    const int connection = accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (connection >= 0) {
      ++accepted;
      handler_.on_accepted(UniqueFd(connection));
      continue;
    }
    switch (errno) {
      case EAGAIN:
        return;
      case EINTR:
      case ECONNABORTED:  // the peer gave up while queued
      case EPROTO:
      case EPERM:  // a firewall said no to this one
        continue;
      case EMFILE:
      case ENFILE:
        handler_.on_accept_error(errno);
        ++accepted;
        if (reserve_) {
          refuse_one();
          continue;
        }
        // No spare descriptor either: try again shortly rather than wedge.
        retry_later();
        return;
      default:  // ENOBUFS, ENOMEM and network errors the kernel reports through accept
        handler_.on_accept_error(errno);
        retry_later();
        return;
    }
  }
}

void Listener::refuse_one() noexcept {
  reserve_.reset();
  UniqueFd refused(accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (refused) {
    handler_.on_refused(refused.get());
    // FIN after the last word; what the peer sent is read first, or close() would reset.
    (void)shutdown(refused.get(), SHUT_WR);
    char discard[4096];
    for (int reads = 0; reads < 4; ++reads) {
      if (recv(refused.get(), discard, sizeof discard, MSG_DONTWAIT) <= 0) break;
    }
    refused.reset();
  }
  reserve_ = open_reserve();
}

}  // namespace epollchat
