// EventLoop: one epoll instance and the work deferred to the end of each turn.
//
// Owns: the epoll fd, a scratch read buffer, the list of watchers to resume without waiting
// (budget-limited readers), and the deferred-work queue. Never: reads, writes or closes a watched
// fd; owns a watcher.
// Lifetime: the loop outlives every watcher and task. A watcher that is unwatched or destroyed
// is forgotten at once: it is never resumed or dispatched again, not even for an event of the
// batch being dispatched, and a resume asked for it afterwards is ignored. A destroyed task is
// likewise cancelled. So a connection closed in the middle of a turn, by whatever path, can
// never be called back, and freeing it at the end of the turn is always safe.
//
// One turn (run_once): wait for events (not at all if some watcher is still resumable or
// work is due this turn; no longer than until the first armed Timer expires), dispatch
// them, resume watchers that ran out of budget last turn, fire the timers that are due,
// then run deferred work until none is left. Output is flushed in that last phase, once per
// turn, so a recipient gets one writev for everything the turn's readers produced.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "core/unique_fd.hpp"

namespace epollchat {

class EventLoop;
class Timer;

// Something that reacts to readiness of one fd.
class Watcher {
 public:
  // `events` is the epoll mask; resumed watchers get EPOLLIN.
  virtual void on_events(std::uint32_t events) = 0;

  // Whether the watcher is registered with a loop (between watch() and unwatch()).
  [[nodiscard]] bool is_watched() const noexcept { return loop_ != nullptr; }

 protected:
  Watcher() = default;
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  // Forgets the watcher in its loop, whatever path led here.
  ~Watcher();

 private:
  friend class EventLoop;
  EventLoop* loop_ = nullptr;  // set while watched
  bool resume_pending_ = false;
};

// Work to run once at the end of the current turn (deduplicated per turn).
class DeferredTask {
 public:
  virtual void run_deferred() = 0;

 protected:
  DeferredTask() = default;
  DeferredTask(const DeferredTask&) = delete;
  DeferredTask& operator=(const DeferredTask&) = delete;
  // Cancels the task if it is still queued.
  ~DeferredTask();

 private:
  friend class EventLoop;
  EventLoop* loop_ = nullptr;  // set while queued
};

class EventLoop {
 public:
  // Armed timers by expiry (see Timer).
  using TimerQueue = std::multimap<std::chrono::steady_clock::time_point, Timer*>;

  EventLoop();  // throws std::system_error

  // The fd is *not* owned. A watcher watches one fd at a time. Throw std::system_error.
  void watch(int fd, std::uint32_t events, Watcher& watcher);
  void modify(int fd, std::uint32_t events, Watcher& watcher);
  // Forgets the fd and `watcher`: no pending resume and no event of the current batch
  // reaches it any more. Never throws: the fd may already be dead, and the caller is
  // tearing down.
  void unwatch(int fd, Watcher& watcher) noexcept;

  // The watcher stopped before EAGAIN because of a per-turn budget: with edge-triggered
  // epoll no new edge will come for the data still queued, so the loop must call it again
  // (with EPOLLIN) next turn, without blocking in between. Ignored for a watcher that is not
  // watched (closed): there is nothing left to read.
  void resume_next_turn(Watcher& watcher);

  // Runs task.run_deferred() at the end of this turn (once, however often deferred).
  void defer(DeferredTask& task);
  // Runs task.run_deferred() at the end of the next turn, which then does not wait for
  // events: for work that must see this turn's output flushed first.
  void defer_to_next_turn(DeferredTask& task);
  // Removes a task from the queue; for tasks being destroyed.
  void cancel(DeferredTask& task) noexcept;

  // Scratch space for reads during dispatch. Connections read into it and keep only an
  // incomplete line, so an idle connection holds no input buffer of its own.
  // The most one read takes from a socket.
  static constexpr std::size_t kReadBufferSize = 64 * 1024;
  [[nodiscard]] std::span<char> read_buffer() noexcept {
    return {read_buffer_.get(), kReadBufferSize};
  }

  // One turn; `timeout_ms` as for epoll_wait (-1 waits forever). EINTR ends the wait early
  // and is not an error. Throws std::system_error if epoll itself fails.
  void run_once(int timeout_ms);

  // The longest time one turn took from the end of its wait to the end of its deferred work:
  // how long the slowest turn kept every other client waiting.
  [[nodiscard]] std::chrono::nanoseconds longest_turn() const noexcept { return longest_turn_; }

 private:
  friend class Watcher;
  friend class DeferredTask;
  friend class Timer;

  // How long epoll_wait may block: `timeout_ms` (-1: forever), shortened to the first
  // timer's expiry (rounded up, so that the loop never spins waiting for it), and 0 if
  // something is due this turn anyway.
  [[nodiscard]] int wait_timeout(int timeout_ms) const;
  void dispatch(int ready);
  void schedule(Timer& timer, std::chrono::steady_clock::time_point due);
  void unschedule(Timer& timer) noexcept;
  void fire_due_timers();
  void run_deferred_tasks();
  // Drops every reference the loop holds to `watcher` (resume lists, the rest of the batch).
  void forget(Watcher& watcher) noexcept;

  static constexpr int kMaxEventsPerTurn = 256;

  UniqueFd epoll_fd_;
  std::vector<Watcher*> to_resume_;
  // The watchers being resumed this turn; an entry is blanked when its watcher is forgotten.
  std::vector<Watcher*> resuming_;
  std::vector<DeferredTask*> deferred_;
  std::vector<DeferredTask*> next_turn_;
  TimerQueue timers_;
  // While timers fire: when the phase began; a timer armed meanwhile to expire by then
  // waits for the next turn, so that a timer re-arming itself cannot hold the loop.
  std::chrono::steady_clock::time_point firing_since_{};
  bool firing_ = false;
  std::unique_ptr<char[]> read_buffer_;
  // The batch being dispatched: events_[next_event_, ready_) are still to come, and an entry
  // whose watcher is forgotten meanwhile is blanked (data.ptr = nullptr).
  epoll_event events_[kMaxEventsPerTurn];
  int next_event_ = 0;
  int ready_ = 0;
  std::chrono::nanoseconds longest_turn_{0};
};

}  // namespace epollchat
