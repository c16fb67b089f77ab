#include "core/lingering_close.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <span>

#include "core/clock.hpp"

namespace epollchat {
namespace {

// Reads and discards a bounded amount of what the peer sent; false once it closed or failed.
bool discard_input(int fd, std::span<char> buffer) noexcept {
  for (int reads = 0; reads < 4; ++reads) {
    const ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
  return true;
}

}  // namespace

LingeringClose::Held::Held(LingeringClose& owner, UniqueFd socket, CoarseTime deadline)
    : owner_(owner), socket_(std::move(socket)), deadline_(deadline) {
  owner_.loop_.watch(socket_.get(), EPOLLIN | EPOLLRDHUP | EPOLLET, *this);
}

void LingeringClose::Held::on_events(std::uint32_t events) {
  if (done_) return;
  const bool open = discard_input(socket_.get(), owner_.loop_.read_buffer());
  if (!open || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    done_ = true;
    // Destroyed after this turn's events, not inside its own callback.
    owner_.loop_.defer(owner_);
  }
}

LingeringClose::LingeringClose(EventLoop& loop, std::size_t capacity)
    : loop_(loop), capacity_(capacity), expiry_(loop, [this] { expire(); }) {}

LingeringClose::~LingeringClose() = default;

void LingeringClose::close(UniqueFd socket) {
  (void)shutdown(socket.get(), SHUT_WR);
  const bool peer_open = discard_input(socket.get(), loop_.read_buffer());
  if (!peer_open || held_.size() >= capacity_) return;
  const CoarseTime deadline = coarse_now() + kLinger;
  try {
    held_.push_back(std::make_unique<Held>(*this, std::move(socket), deadline));
  } catch (const std::exception&) {
    return;  // cannot watch it: closed now, as if over capacity
  }
  if (!expiry_.is_armed()) {
    expiry_.arm(std::chrono::duration_cast<std::chrono::microseconds>(kLinger));
  }
}

void LingeringClose::run_deferred() {
  std::erase_if(held_, [](const std::unique_ptr<Held>& held) { return held->is_done(); });
}

void LingeringClose::expire() {
  const CoarseTime now = coarse_now();
  std::erase_if(held_, [now](const std::unique_ptr<Held>& held) {
    return held->is_done() || held->deadline() <= now;
  });
  if (!held_.empty()) {
    const auto next = held_.front()->deadline() - now;
    expiry_.arm(std::max(std::chrono::duration_cast<std::chrono::microseconds>(next),
                         std::chrono::microseconds(1)));
  }
}

}  // namespace epollchat
