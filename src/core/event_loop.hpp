// EventLoop: one epoll instance and the work deferred to the end of each turn.
//
// Owns: the epoll fd, a scratch read buffer, the list of watchers to resume without waiting
// (budget-limited readers), and the deferred-work queue. Never: reads, writes or closes a watched
// fd; owns a watcher. Lifetime: a watcher must be unwatched (and cancelled from the deferred queue)
// before it is destroyed; the server destroys its sessions only between turns, so nothing the
// current batch of events still references is freed in the middle of it.
//
// One turn (run_once): wait for events (not at all if some watcher is still resumable),
// dispatch them, resume watchers that ran out of budget last turn, then run deferred work
// until none is left. Output is flushed in that last phase, once per turn, so a recipient
// gets one writev for everything the turn's readers produced.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/unique_fd.hpp"

namespace epollchat {

class EventLoop;

// Something that reacts to readiness of one fd.
class Watcher {
 public:
  // `events` is the epoll mask; resumed watchers get EPOLLIN.
  virtual void on_events(std::uint32_t events) = 0;

 protected:
  Watcher() = default;
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  ~Watcher() = default;

 private:
  friend class EventLoop;
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
  ~DeferredTask() = default;

 private:
  friend class EventLoop;
  bool deferred_ = false;
};

class EventLoop {
 public:
  EventLoop();  // throws std::system_error

  // The fd is *not* owned; `watcher` must outlive the registration. Throw std::system_error.
  void watch(int fd, std::uint32_t events, Watcher& watcher);
  void modify(int fd, std::uint32_t events, Watcher& watcher);
  // Forgets the fd and any pending resume of `watcher`. Never throws: the fd may already be
  // dead, and the caller is tearing down.
  void unwatch(int fd, Watcher& watcher) noexcept;

  // The watcher stopped before EAGAIN because of a per-turn budget: with edge-triggered
  // epoll no new edge will come for the data still queued, so the loop must call it again
  // (with EPOLLIN) next turn, without blocking in between.
  void resume_next_turn(Watcher& watcher);

  // Runs task.run_deferred() at the end of this turn (once, however often deferred).
  void defer(DeferredTask& task);
  // Removes a task from the queue; for tasks being destroyed.
  void cancel(DeferredTask& task) noexcept;

  // Scratch space for reads during dispatch. Connections read into it and keep only an
  // incomplete line, so an idle connection holds no input buffer of its own.
  [[nodiscard]] std::span<char> read_buffer() noexcept {
    return {read_buffer_.get(), kReadBufferSize};
  }

  // One turn; `timeout_ms` as for epoll_wait (-1 waits forever). EINTR ends the wait early
  // and is not an error. Throws std::system_error if epoll itself fails.
  void run_once(int timeout_ms);

 private:
  void run_deferred_tasks();

  static constexpr int kMaxEventsPerTurn = 256;
  static constexpr std::size_t kReadBufferSize = 64 * 1024;

  UniqueFd epoll_fd_;
  std::vector<Watcher*> to_resume_;
  std::vector<Watcher*> resuming_;
  std::vector<DeferredTask*> deferred_;
  std::unique_ptr<char[]> read_buffer_;
  epoll_event events_[kMaxEventsPerTurn];
};

}  // namespace epollchat
