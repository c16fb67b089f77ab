// TlsAcceptor: takes the connections a TLS listener accepts through their handshakes, and
// hands each one on only once it is encrypted.
//
// Owns: the connections whose handshakes are in progress, and the server context new
// handshakes use. Never: logs; lets a peer that stalls, speaks plain text or sends garbage
// hold more than its own descriptor and a few KiB for longer than kHandshakeTimeout.
// Lifetime: a handshake that ends (done, failed, expired) inside a callback is destroyed in
// the turn's deferred phase, as connections are.
//
// Handshakes are driven like everything else on the loop: non-blocking, edge-triggered
// (watching for both directions, since a handshake may wait on either), and within a budget
// of kStepsPerTurn steps per turn, so that a connect storm's public-key work is spread over
// turns instead of holding up the clients already chatting.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/event_loop.hpp"
#include "core/listener.hpp"
#include "core/timer.hpp"
#include "core/tls_context.hpp"
#include "core/tls_stream.hpp"
#include "core/unique_fd.hpp"

namespace epollchat {

class TlsAcceptorHandler {
 public:
  // Whether a newly accepted connection may begin its handshake (handshakes in progress
  // count against the handler's limit on clients); if not, it is closed at once.
  virtual bool admits_handshake() = 0;
  // The handshake completed: the connection and its TLS state are the handler's now.
  virtual void on_handshake_done(UniqueFd connection, std::unique_ptr<TlsStream> tls) = 0;
  // The handshake failed, the peer left, or it took too long; the connection is closed
  // after the call.
  virtual void on_handshake_failed(int connection, const std::string& reason) = 0;
  // As ListenerHandler's.
  virtual void on_accept_error(int error) = 0;

 protected:
  ~TlsAcceptorHandler() = default;
};

class TlsAcceptor final : public ListenerHandler, public DeferredTask {
 public:
  static constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
  static constexpr int kStepsPerTurn = 32;

  TlsAcceptor(EventLoop& loop, TlsAcceptorHandler& handler);
  ~TlsAcceptor();
  TlsAcceptor(const TlsAcceptor&) = delete;
  TlsAcceptor& operator=(const TlsAcceptor&) = delete;

  // The context (certificate and key) for handshakes that begin from now on; handshakes in
  // progress and connections keep the one they began with.
  void set_context(TlsContext context) { context_ = std::move(context); }
  [[nodiscard]] const TlsContext& context() const noexcept { return context_; }
  // Handshakes in progress.
  [[nodiscard]] std::size_t handshakes() const noexcept { return in_progress_.size(); }

  void on_accepted(UniqueFd connection) override;
  void on_accept_error(int error) override { handler_.on_accept_error(error); }
  void run_deferred() override;

 private:
  class Handshake;
  using Handshakes = std::list<Handshake>;

  void step(Handshake& handshake);
  // Takes the handshake out of progress; it is destroyed at the end of the turn.
  void end(Handshake& handshake);
  void fail(Handshake& handshake, const std::string& reason);
  void expire_overdue();
  void arm_expiry();

  EventLoop& loop_;
  TlsAcceptorHandler& handler_;
  TlsContext context_;
  // In order of start, so also of deadline: the first one is the next to expire.
  Handshakes in_progress_;
  Handshakes ended_;
  Timer expiry_timer_;
  int steps_this_turn_ = 0;
};

}  // namespace epollchat
