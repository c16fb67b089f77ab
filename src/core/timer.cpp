#include "core/timer.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace epollchat {
namespace {

timespec to_timespec(std::chrono::microseconds duration) {
  timespec spec{};
  spec.tv_sec = static_cast<time_t>(duration.count() / 1'000'000);
  spec.tv_nsec = static_cast<long>(duration.count() % 1'000'000) * 1000;
  return spec;
}

}  // namespace

Timer::Timer(EventLoop& loop, std::function<void()> on_expiry)
    : loop_(loop),
      fd_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      on_expiry_(std::move(on_expiry)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "timerfd_create");
  loop_.watch(fd_.get(), EPOLLIN, *this);
}

Timer::~Timer() { loop_.unwatch(fd_.get(), *this); }

void Timer::arm(std::chrono::microseconds delay, std::chrono::microseconds interval) {
  itimerspec spec{};
  // A zero it_value would disarm the timer; the shortest delay is 1 µs.
  spec.it_value = to_timespec(delay.count() > 0 ? delay : std::chrono::microseconds(1));
  spec.it_interval = to_timespec(interval);
  if (timerfd_settime(fd_.get(), 0, &spec, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "timerfd_settime");
  }
  armed_ = true;
  periodic_ = interval.count() > 0;
}

void Timer::disarm() noexcept {
  const itimerspec spec{};
  (void)timerfd_settime(fd_.get(), 0, &spec, nullptr);
  armed_ = false;
}

void Timer::on_events(std::uint32_t /*events*/) {
  std::uint64_t expirations = 0;
  // Level-triggered and drained here; EAGAIN means a disarm raced the expiry.
  if (read(fd_.get(), &expirations, sizeof expirations) != sizeof expirations) return;
  if (!periodic_) armed_ = false;
  on_expiry_();
}

}  // namespace epollchat
