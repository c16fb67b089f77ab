// LingeringClose: sockets the server has said its last words on, kept until the peer closes.
//
// close() on a socket whose peer has sent data we did not read makes the kernel send RST,
// and an RST can destroy the peer's copy of our last words (a refusal notice) before it reads
// them. So a refused socket is shut down for writing (FIN after the notice) and kept here,
// reading and discarding what the peer sends, until it closes its side or kLinger passes.
//
// Owns: the held sockets, a timer. Never: holds more than its capacity (beyond it, a socket
// is drained once and closed at once) or any socket longer than kLinger.
// Lifetime: the loop outlives it; everything still held is closed with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/clock.hpp"
#include "core/event_loop.hpp"
#include "core/timer.hpp"
#include "core/unique_fd.hpp"

namespace epollchat {

class LingeringClose final : public DeferredTask {
 public:
  static constexpr auto kLinger = std::chrono::seconds(2);

  LingeringClose(EventLoop& loop, std::size_t capacity);
  ~LingeringClose();
  LingeringClose(const LingeringClose&) = delete;
  LingeringClose& operator=(const LingeringClose&) = delete;

  // Takes a connected, non-blocking socket whose last words are written: sends FIN and
  // closes it once the peer has closed too, or after kLinger.
  void close(UniqueFd socket);

  [[nodiscard]] std::size_t held() const noexcept { return held_.size(); }

  void run_deferred() override;

 private:
  class Held final : public Watcher {
   public:
    Held(LingeringClose& owner, UniqueFd socket, CoarseTime deadline);
    void on_events(std::uint32_t events) override;
    [[nodiscard]] bool is_done() const noexcept { return done_; }
    [[nodiscard]] CoarseTime deadline() const noexcept { return deadline_; }

   private:
    LingeringClose& owner_;
    UniqueFd socket_;
    CoarseTime deadline_;
    bool done_ = false;
  };

  void expire();

  EventLoop& loop_;
  std::size_t capacity_;
  std::vector<std::unique_ptr<Held>> held_;
  Timer expiry_;
};

}  // namespace epollchat
