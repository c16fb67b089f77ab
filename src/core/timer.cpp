#include "core/timer.hpp"

namespace epollchat {

Timer::Timer(EventLoop& loop, std::function<void()> on_expiry)
    : loop_(loop), on_expiry_(std::move(on_expiry)) {}

Timer::~Timer() { disarm(); }

void Timer::arm(std::chrono::microseconds delay, std::chrono::microseconds interval) {
  disarm();
  interval_ = interval;
  loop_.schedule(*this, std::chrono::steady_clock::now() + delay);
}

void Timer::disarm() noexcept {
  if (armed_) loop_.unschedule(*this);
}

}  // namespace epollchat
