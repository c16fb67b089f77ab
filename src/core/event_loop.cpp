#include "core/event_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <system_error>
#include <vector>

#include "core/timer.hpp"

namespace epollchat {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

Watcher::~Watcher() {
  if (loop_ != nullptr) loop_->forget(*this);
}

DeferredTask::~DeferredTask() {
  if (loop_ != nullptr) loop_->cancel(*this);
}

EventLoop::EventLoop()
    : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      read_buffer_(std::make_unique_for_overwrite<char[]>(kReadBufferSize)),
      events_{} {
  if (!epoll_fd_) throw_errno("epoll_create1");
}

void EventLoop::watch(int fd, std::uint32_t events, Watcher& watcher) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = &watcher;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl(ADD)");
  watcher.loop_ = this;
}

void EventLoop::modify(int fd, std::uint32_t events, Watcher& watcher) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = &watcher;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &event) != 0) throw_errno("epoll_ctl(MOD)");
}

void EventLoop::unwatch(int fd, Watcher& watcher) noexcept {
  if (fd >= 0) (void)epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  forget(watcher);
}

void EventLoop::forget(Watcher& watcher) noexcept {
  watcher.loop_ = nullptr;
  if (watcher.resume_pending_) {
    watcher.resume_pending_ = false;
    std::erase(to_resume_, &watcher);
  }
  // Blanked, not erased: the walks over these are under way.
  std::replace(resuming_.begin(), resuming_.end(), &watcher, static_cast<Watcher*>(nullptr));
  for (int i = next_event_; i < ready_; ++i) {
    if (events_[i].data.ptr == &watcher) events_[i].data.ptr = nullptr;
  }
}

void EventLoop::resume_next_turn(Watcher& watcher) {
  if (watcher.loop_ != this || watcher.resume_pending_) return;
  watcher.resume_pending_ = true;
  to_resume_.push_back(&watcher);
}

void EventLoop::defer(DeferredTask& task) {
  if (task.loop_ != nullptr) {
    // Already due this turn; or due next turn, and now this one.
    const auto waiting = std::find(next_turn_.begin(), next_turn_.end(), &task);
    if (waiting == next_turn_.end()) return;
    next_turn_.erase(waiting);
  }
  task.loop_ = this;
  deferred_.push_back(&task);
}

void EventLoop::defer_to_next_turn(DeferredTask& task) {
  if (task.loop_ != nullptr) return;
  task.loop_ = this;
  next_turn_.push_back(&task);
}

void EventLoop::cancel(DeferredTask& task) noexcept {
  if (task.loop_ == nullptr) return;
  task.loop_ = nullptr;
  // Blanked, not erased: cancel() may run while run_deferred_tasks() walks the queue.
  std::replace(deferred_.begin(), deferred_.end(), &task, static_cast<DeferredTask*>(nullptr));
  std::erase(next_turn_, &task);
}

void EventLoop::schedule(Timer& timer, std::chrono::steady_clock::time_point due) {
  if (firing_ && due <= firing_since_) due = firing_since_ + std::chrono::nanoseconds(1);
  timer.position_ = timers_.emplace(due, &timer);
  timer.armed_ = true;
}

void EventLoop::unschedule(Timer& timer) noexcept {
  timers_.erase(timer.position_);
  timer.armed_ = false;
}

int EventLoop::wait_timeout(int timeout_ms) const {
  if (!to_resume_.empty() || !next_turn_.empty()) return 0;
  if (timers_.empty()) return timeout_ms;
  const auto until = timers_.begin()->first - std::chrono::steady_clock::now();
  if (until <= std::chrono::steady_clock::duration::zero()) return 0;
  const long long until_ms = std::chrono::ceil<std::chrono::milliseconds>(until).count();
  const long long limit = timeout_ms < 0 ? INT_MAX : timeout_ms;
  return static_cast<int>(std::min(until_ms, limit));
}

void EventLoop::fire_due_timers() {
  if (timers_.empty()) return;
  firing_ = true;
  firing_since_ = std::chrono::steady_clock::now();
  // Taken from the front one at a time: a callback may disarm, re-arm or destroy any timer.
  while (!timers_.empty() && timers_.begin()->first <= firing_since_) {
    const auto front = timers_.begin();
    const std::chrono::steady_clock::time_point due = front->first;
    Timer& timer = *front->second;
    timers_.erase(front);
    timer.armed_ = false;
    if (timer.interval_ > std::chrono::microseconds::zero()) {
      const auto next = due + timer.interval_;
      schedule(timer, next > firing_since_ ? next : firing_since_ + timer.interval_);
    }
    timer.on_expiry_();
  }
  firing_ = false;
}

void EventLoop::run_once(int timeout_ms) {
  const int ready =
      epoll_wait(epoll_fd_.get(), events_, kMaxEventsPerTurn, wait_timeout(timeout_ms));
  if (ready < 0 && errno != EINTR) throw_errno("epoll_wait");
  const auto start = std::chrono::steady_clock::now();

  // Work put off to this turn runs in its deferred phase, after everything below.
  for (DeferredTask* task : next_turn_) deferred_.push_back(task);
  next_turn_.clear();

  // Watchers resumed now may re-queue themselves for the next turn.
  resuming_.swap(to_resume_);
  for (Watcher* watcher : resuming_) watcher->resume_pending_ = false;

  dispatch(ready);
  // Indexed: a watcher forgotten during the walk is blanked in place.
  for (std::size_t i = 0; i < resuming_.size(); ++i) {
    if (Watcher* watcher = resuming_[i]) watcher->on_events(EPOLLIN);
  }
  resuming_.clear();

  fire_due_timers();
  run_deferred_tasks();
  longest_turn_ = std::max(longest_turn_, std::chrono::steady_clock::now() - start);
}

void EventLoop::dispatch(int ready) {
  ready_ = std::max(ready, 0);
  for (next_event_ = 0; next_event_ < ready_;) {
    const epoll_event& event = events_[next_event_++];
    if (auto* watcher = static_cast<Watcher*>(event.data.ptr)) watcher->on_events(event.events);
  }
  next_event_ = ready_ = 0;
}

void EventLoop::run_deferred_tasks() {
  // Tasks may defer more tasks (a reaped session's leave notice queues output to others);
  // index-based so appends during the walk are seen.
  for (std::size_t i = 0; i < deferred_.size(); ++i) {
    DeferredTask* task = deferred_[i];
    if (task == nullptr) continue;
    task->loop_ = nullptr;
    task->run_deferred();
  }
  deferred_.clear();
}

}  // namespace epollchat
