#include "core/event_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <vector>

namespace epollchat {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

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
}

void EventLoop::modify(int fd, std::uint32_t events, Watcher& watcher) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = &watcher;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &event) != 0) throw_errno("epoll_ctl(MOD)");
}

void EventLoop::unwatch(int fd, Watcher& watcher) noexcept {
  if (fd >= 0) (void)epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  if (watcher.resume_pending_) {
    watcher.resume_pending_ = false;
    std::erase(to_resume_, &watcher);
  }
}

void EventLoop::resume_next_turn(Watcher& watcher) {
  if (watcher.resume_pending_) return;
  watcher.resume_pending_ = true;
  to_resume_.push_back(&watcher);
}

void EventLoop::defer(DeferredTask& task) {
  if (task.deferred_) return;
  task.deferred_ = true;
  deferred_.push_back(&task);
}

void EventLoop::cancel(DeferredTask& task) noexcept {
  if (!task.deferred_) return;
  task.deferred_ = false;
  // Blanked, not erased: cancel() may run while run_deferred_tasks() walks the queue.
  std::replace(deferred_.begin(), deferred_.end(), &task, static_cast<DeferredTask*>(nullptr));
}

void EventLoop::run_once(int timeout_ms) {
  const int ready =
      epoll_wait(epoll_fd_.get(), events_, kMaxEventsPerTurn, to_resume_.empty() ? timeout_ms : 0);
  if (ready < 0 && errno != EINTR) throw_errno("epoll_wait");

  // Watchers resumed now may re-queue themselves for the next turn.
  resuming_.swap(to_resume_);
  for (Watcher* watcher : resuming_) watcher->resume_pending_ = false;

  for (int i = 0; i < ready; ++i) {
    static_cast<Watcher*>(events_[i].data.ptr)->on_events(events_[i].events);
  }
  // A watcher unwatched during dispatch was removed from to_resume_, but `resuming_` is a
  // copy: it may only hold watchers that are still alive, because destruction waits for
  // the end of the turn; a watcher that closed itself ignores the call.
  for (Watcher* watcher : resuming_) watcher->on_events(EPOLLIN);
  resuming_.clear();

  run_deferred_tasks();
}

void EventLoop::run_deferred_tasks() {
  // Tasks may defer more tasks (a reaped session's leave notice queues output to others);
  // index-based so appends during the walk are seen.
  for (std::size_t i = 0; i < deferred_.size(); ++i) {
    DeferredTask* task = deferred_[i];
    if (task == nullptr) continue;
    task->deferred_ = false;
    task->run_deferred();
  }
  deferred_.clear();
}

}  // namespace epollchat
