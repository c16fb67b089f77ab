#include "core/tls_acceptor.hpp"

#include <sys/socket.h>

#include <algorithm>

namespace epollchat {

class TlsAcceptor::Handshake final : public Watcher {
 public:
  Handshake(TlsAcceptor& acceptor, UniqueFd fd, std::unique_ptr<TlsStream> tls, CoarseTime deadline)
      : acceptor_(acceptor), fd_(std::move(fd)), tls_(std::move(tls)), deadline_(deadline) {}

  void on_events(std::uint32_t /*events*/) override { acceptor_.step(*this); }

  TlsAcceptor& acceptor_;
  UniqueFd fd_;
  std::unique_ptr<TlsStream> tls_;
  CoarseTime deadline_;
  Handshakes::iterator position_;
  bool ended_ = false;
};

namespace {

// A handshake that failed or ran out of time: what the peer sent is read and dropped (a
// bounded amount) so that close() sends FIN, after whatever alert OpenSSL wrote.
void close_quietly(UniqueFd& fd) noexcept {
  (void)shutdown(fd.get(), SHUT_WR);
  char discard[4096];
  for (int reads = 0; reads < 4; ++reads) {
    if (recv(fd.get(), discard, sizeof discard, MSG_DONTWAIT) <= 0) break;
  }
  fd.reset();
}

}  // namespace

TlsAcceptor::TlsAcceptor(EventLoop& loop, TlsAcceptorHandler& handler)
    : loop_(loop), handler_(handler), expiry_timer_(loop, [this] { expire_overdue(); }) {}

TlsAcceptor::~TlsAcceptor() { loop_.cancel(*this); }

void TlsAcceptor::on_accepted(UniqueFd fd) {
  if (!context_.is_set() || !handler_.admits_handshake()) return;  // closed by `fd`
  std::unique_ptr<TlsStream> tls;
  try {
    tls = std::make_unique<TlsStream>(context_, fd.get());
  } catch (const TlsSetupError& failure) {
    handler_.on_handshake_failed(fd.get(), failure.what());
    return;
  }
  Handshake& handshake = in_progress_.emplace_back(*this, std::move(fd), std::move(tls),
                                                   coarse_now() + kHandshakeTimeout);
  handshake.position_ = std::prev(in_progress_.end());
  try {
    loop_.watch(handshake.fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, handshake);
  } catch (const std::system_error& failure) {
    fail(handshake, failure.what());
    return;
  }
  if (!expiry_timer_.is_armed()) arm_expiry();
  // The client speaks first; its hello is usually there already.
  step(handshake);
}

void TlsAcceptor::step(Handshake& handshake) {
  if (handshake.ended_) return;
  if (steps_this_turn_ == kStepsPerTurn) {
    loop_.resume_next_turn(handshake);
    return;
  }
  if (steps_this_turn_++ == 0) loop_.defer(*this);
  switch (handshake.tls_->handshake()) {
    case TlsStatus::ok: {
      loop_.unwatch(handshake.fd_.get(), handshake);
      end(handshake);
      handler_.on_handshake_done(std::move(handshake.fd_), std::move(handshake.tls_));
      return;
    }
    case TlsStatus::want_read:
    case TlsStatus::want_write:
      return;  // the next edge brings it on
    case TlsStatus::closed:
    case TlsStatus::failed:
      fail(handshake, handshake.tls_->failure());
      return;
  }
}

void TlsAcceptor::end(Handshake& handshake) {
  handshake.ended_ = true;
  ended_.splice(ended_.end(), in_progress_, handshake.position_);
  loop_.defer(*this);
}

void TlsAcceptor::fail(Handshake& handshake, const std::string& reason) {
  loop_.unwatch(handshake.fd_.get(), handshake);
  end(handshake);
  handler_.on_handshake_failed(handshake.fd_.get(), reason);
  close_quietly(handshake.fd_);
}

void TlsAcceptor::expire_overdue() {
  const CoarseTime now = coarse_now();
  while (!in_progress_.empty() && in_progress_.front().deadline_ <= now) {
    fail(in_progress_.front(),
         "no handshake within " + std::to_string(kHandshakeTimeout.count()) + " s");
  }
  if (!in_progress_.empty()) arm_expiry();
}

void TlsAcceptor::arm_expiry() {
  const auto left = in_progress_.front().deadline_ - coarse_now();
  expiry_timer_.arm(std::max(std::chrono::duration_cast<std::chrono::microseconds>(left),
                             std::chrono::microseconds(1000)));
}

void TlsAcceptor::run_deferred() {
  steps_this_turn_ = 0;
  ended_.clear();
}

}  // namespace epollchat
