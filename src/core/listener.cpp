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
    : loop_(loop), fd_(std::move(listening)), reserve_(open_reserve()), handler_(handler) {
  set_nonblocking(fd_.get());
  address_ = SocketAddress::local_of(fd_.get());
  loop_.watch(fd_.get(), EPOLLIN | EPOLLET, *this);
}

Listener::~Listener() { stop(); }

void Listener::stop() noexcept {
  if (!fd_) return;
  loop_.unwatch(fd_.get(), *this);
  fd_.reset();
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
        // No spare descriptor either: try again next turn rather than wedge.
        loop_.resume_next_turn(*this);
        return;
      default:  // ENOBUFS, ENOMEM and network errors the kernel reports through accept
        handler_.on_accept_error(errno);
        loop_.resume_next_turn(*this);
        return;
    }
  }
}

void Listener::refuse_one() noexcept {
  reserve_.reset();
  UniqueFd refused(accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  refused.reset();
  reserve_ = open_reserve();
}

}  // namespace epollchat
