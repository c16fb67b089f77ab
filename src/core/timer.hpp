// Timer: a timerfd watched by the loop, for periodic or one-shot work (status reports,
// the watchdog, the shutdown deadline).
//
// Owns: the timerfd and the callback.
// Lifetime: watched from construction to destruction; the callback runs inside a turn.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "core/event_loop.hpp"
#include "core/unique_fd.hpp"

namespace epollchat {

class Timer final : public Watcher {
 public:
  Timer(EventLoop& loop, std::function<void()> on_expiry);  // throws std::system_error
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires once after `delay`, then every `interval` if it is non-zero. Replaces any
  // earlier setting.
  void arm(std::chrono::microseconds delay,
           std::chrono::microseconds interval = std::chrono::microseconds::zero());
  void disarm() noexcept;
  [[nodiscard]] bool is_armed() const noexcept { return armed_; }

  void on_events(std::uint32_t events) override;

 private:
  EventLoop& loop_;
  UniqueFd fd_;
  std::function<void()> on_expiry_;
  bool armed_ = false;
  bool periodic_ = false;
};

}  // namespace epollchat
