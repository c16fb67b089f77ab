// EventLoop: dispatch, deferred work (deduplicated, cancellable while it runs) and
// watchers resumed next turn without blocking.
#include "core/event_loop.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "unit/unit_helpers.hpp"

namespace epollchat {
namespace {

class RecordingWatcher final : public Watcher {
 public:
  void on_events(std::uint32_t events) override {
    received.push_back(events);
    if (action) action();
  }
  std::vector<std::uint32_t> received;
  std::function<void()> action;
};

class RecordingTask final : public DeferredTask {
 public:
  RecordingTask(std::vector<std::string>& log, std::string name)
      : log_(log), name_(std::move(name)) {}
  void run_deferred() override {
    log_.push_back(name_);
    if (action) action();
  }
  std::function<void()> action;

 private:
  std::vector<std::string>& log_;
  std::string name_;
};

constexpr int kGuardMs = 5000;

TEST(EventLoop, DispatchesReadinessToTheWatcher) {
  EventLoop loop;
  test::SocketPair pair = test::make_socketpair();
  RecordingWatcher watcher;
  loop.watch(pair.local.get(), EPOLLIN, watcher);
  ASSERT_EQ(send(pair.peer.get(), "x", 1, MSG_NOSIGNAL), 1);
  loop.run_once(kGuardMs);
  ASSERT_EQ(watcher.received.size(), 1u);
  EXPECT_NE(watcher.received[0] & EPOLLIN, 0u);

  loop.modify(pair.local.get(), EPOLLOUT, watcher);
  loop.run_once(kGuardMs);
  ASSERT_EQ(watcher.received.size(), 2u);
  EXPECT_EQ(watcher.received[1], static_cast<std::uint32_t>(EPOLLOUT));

  loop.unwatch(pair.local.get(), watcher);
  loop.run_once(0);
  EXPECT_EQ(watcher.received.size(), 2u) << "an unwatched fd is not reported";
}

TEST(EventLoop, WatchingABadFdThrows) {
  EventLoop loop;
  RecordingWatcher watcher;
  EXPECT_THROW(loop.watch(-1, EPOLLIN, watcher), std::system_error);
  EXPECT_THROW(loop.modify(-1, EPOLLIN, watcher), std::system_error);
  loop.unwatch(-1, watcher);  // never throws
}

TEST(EventLoop, ReadBufferIs64KiB) {
  EventLoop loop;
  EXPECT_EQ(loop.read_buffer().size(), 64u * 1024);
}

TEST(EventLoop, DeferRunsOncePerTurnHoweverOftenDeferred) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask a(log, "a");
  RecordingTask b(log, "b");
  loop.defer(a);
  loop.defer(b);
  loop.defer(a);
  EXPECT_TRUE(log.empty()) << "deferred work waits for the end of the turn";
  loop.run_once(0);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
  loop.run_once(0);
  EXPECT_EQ(log.size(), 2u) << "a task runs again only if deferred again";
  loop.defer(a);
  loop.run_once(0);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "a"}));
}

TEST(EventLoop, DeferredWorkRunsWithoutWaitingForEvents) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask a(log, "a");
  loop.defer(a);
  const auto start = std::chrono::steady_clock::now();
  loop.run_once(0);
  EXPECT_EQ(log.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(EventLoop, CancelBeforeTheTurnDropsTheTask) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask a(log, "a");
  loop.defer(a);
  loop.cancel(a);
  loop.cancel(a);  // twice is harmless
  loop.run_once(0);
  EXPECT_TRUE(log.empty());
  loop.defer(a);  // and it can be deferred again
  loop.run_once(0);
  EXPECT_EQ(log, std::vector<std::string>{"a"});
}

TEST(EventLoop, CancelDuringTheDeferredPhaseSkipsTheLaterTask) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask a(log, "a");
  RecordingTask b(log, "b");
  RecordingTask c(log, "c");
  a.action = [&] { loop.cancel(b); };
  loop.defer(a);
  loop.defer(b);
  loop.defer(c);
  loop.run_once(0);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "c"}));
  loop.run_once(0);
  EXPECT_EQ(log.size(), 2u);
}

TEST(EventLoop, TasksDeferredDuringTheDeferredPhaseRunInTheSameTurn) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask a(log, "a");
  RecordingTask b(log, "b");
  a.action = [&] { loop.defer(b); };
  loop.defer(a);
  loop.run_once(0);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
}

TEST(EventLoop, ATaskMayDeferItselfAgainWhileRunning) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask a(log, "a");
  int runs = 0;
  a.action = [&] {
    if (++runs < 3) loop.defer(a);
  };
  loop.defer(a);
  loop.run_once(0);
  EXPECT_EQ(runs, 3);
}

TEST(EventLoop, DeferredWorkRunsAfterTheTurnsEvents) {
  EventLoop loop;
  test::SocketPair pair = test::make_socketpair();
  std::vector<std::string> log;
  RecordingTask task(log, "deferred");
  RecordingWatcher watcher;
  watcher.action = [&] {
    log.push_back("event");
    loop.defer(task);
  };
  loop.watch(pair.local.get(), EPOLLIN | EPOLLET, watcher);
  ASSERT_EQ(send(pair.peer.get(), "x", 1, MSG_NOSIGNAL), 1);
  loop.run_once(kGuardMs);
  EXPECT_EQ(log, (std::vector<std::string>{"event", "deferred"}));
  loop.unwatch(pair.local.get(), watcher);
}

TEST(EventLoop, ResumedWatcherRunsNextTurnWithoutBlocking) {
  EventLoop loop;
  test::SocketPair pair = test::make_socketpair();
  RecordingWatcher watcher;
  loop.watch(pair.local.get(), EPOLLIN | EPOLLET, watcher);
  loop.resume_next_turn(watcher);
  loop.resume_next_turn(watcher);  // deduplicated
  const auto start = std::chrono::steady_clock::now();
  loop.run_once(10'000);  // would block for 10 s if the loop waited
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(watcher.received, std::vector<std::uint32_t>{EPOLLIN});
  loop.run_once(0);
  EXPECT_EQ(watcher.received.size(), 1u) << "resumed once, not forever";
}

TEST(EventLoop, AWatcherMayResumeItselfTurnAfterTurn) {
  EventLoop loop;
  test::SocketPair pair = test::make_socketpair();
  RecordingWatcher watcher;
  loop.watch(pair.local.get(), EPOLLIN | EPOLLET, watcher);
  watcher.action = [&] {
    if (watcher.received.size() < 3) loop.resume_next_turn(watcher);
  };
  loop.resume_next_turn(watcher);
  for (int turn = 0; turn < 5; ++turn) loop.run_once(turn < 3 ? 10'000 : 0);
  EXPECT_EQ(watcher.received.size(), 3u);
}

TEST(EventLoop, UnwatchForgetsAPendingResume) {
  EventLoop loop;
  test::SocketPair pair = test::make_socketpair();
  RecordingWatcher watcher;
  loop.watch(pair.local.get(), EPOLLIN | EPOLLET, watcher);
  loop.resume_next_turn(watcher);
  loop.unwatch(pair.local.get(), watcher);
  loop.run_once(0);
  EXPECT_TRUE(watcher.received.empty());
}

// A watcher closed during a turn (a connection cut off) may still be asked to resume by
// code that does not know yet (a paused sender resumed as its congested reader leaves).
TEST(EventLoop, AResumeAskedAfterUnwatchIsIgnored) {
  EventLoop loop;
  test::SocketPair pair = test::make_socketpair();
  RecordingWatcher watcher;
  loop.watch(pair.local.get(), EPOLLIN | EPOLLET, watcher);
  loop.unwatch(pair.local.get(), watcher);
  EXPECT_FALSE(watcher.is_watched());
  loop.resume_next_turn(watcher);
  loop.run_once(0);
  EXPECT_TRUE(watcher.received.empty());
}

// Destruction forgets the watcher whatever else holds it: under ASan a call on the freed
// object would be reported here.
TEST(EventLoop, ADestroyedWatcherIsNeverResumed) {
  EventLoop loop;
  test::SocketPair pair = test::make_socketpair();
  auto watcher = std::make_unique<RecordingWatcher>();
  loop.watch(pair.local.get(), EPOLLIN | EPOLLET, *watcher);
  loop.resume_next_turn(*watcher);
  watcher.reset();
  loop.run_once(0);
  SUCCEED();
}

TEST(EventLoop, AWatcherDestroyedWhileOthersAreResumedIsSkipped) {
  EventLoop loop;
  test::SocketPair first_pair = test::make_socketpair();
  test::SocketPair second_pair = test::make_socketpair();
  RecordingWatcher first;
  auto second = std::make_unique<RecordingWatcher>();
  loop.watch(first_pair.local.get(), EPOLLIN | EPOLLET, first);
  loop.watch(second_pair.local.get(), EPOLLIN | EPOLLET, *second);
  first.action = [&] { second.reset(); };
  loop.resume_next_turn(first);
  loop.resume_next_turn(*second);
  loop.run_once(0);
  EXPECT_EQ(first.received.size(), 1u);
  EXPECT_EQ(second, nullptr);
}

TEST(EventLoop, AnEventOfTheBatchDoesNotReachAWatcherUnwatchedEarlierInIt) {
  EventLoop loop;
  test::SocketPair first_pair = test::make_socketpair();
  test::SocketPair second_pair = test::make_socketpair();
  RecordingWatcher first;
  RecordingWatcher second;
  loop.watch(first_pair.local.get(), EPOLLIN, first);
  loop.watch(second_pair.local.get(), EPOLLIN, second);
  // Whichever is dispatched first unwatches the other, which is ready in the same batch.
  first.action = [&] { loop.unwatch(second_pair.local.get(), second); };
  second.action = [&] { loop.unwatch(first_pair.local.get(), first); };
  ASSERT_EQ(send(first_pair.peer.get(), "x", 1, MSG_NOSIGNAL), 1);
  ASSERT_EQ(send(second_pair.peer.get(), "x", 1, MSG_NOSIGNAL), 1);
  loop.run_once(kGuardMs);
  EXPECT_EQ(first.received.size() + second.received.size(), 1u);
}

TEST(EventLoop, AWatcherDestroyedDuringDispatchMissesTheRestOfTheBatch) {
  EventLoop loop;
  test::SocketPair first_pair = test::make_socketpair();
  test::SocketPair second_pair = test::make_socketpair();
  auto first = std::make_unique<RecordingWatcher>();
  auto second = std::make_unique<RecordingWatcher>();
  loop.watch(first_pair.local.get(), EPOLLIN, *first);
  loop.watch(second_pair.local.get(), EPOLLIN, *second);
  int calls = 0;
  first->action = [&] {
    ++calls;
    second.reset();
  };
  second->action = [&] {
    ++calls;
    first.reset();
  };
  ASSERT_EQ(send(first_pair.peer.get(), "x", 1, MSG_NOSIGNAL), 1);
  ASSERT_EQ(send(second_pair.peer.get(), "x", 1, MSG_NOSIGNAL), 1);
  loop.run_once(kGuardMs);
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, ADestroyedTaskIsCancelled) {
  EventLoop loop;
  std::vector<std::string> log;
  auto task = std::make_unique<RecordingTask>(log, "gone");
  RecordingTask kept(log, "kept");
  loop.defer(*task);
  loop.defer(kept);
  task.reset();
  loop.run_once(0);
  EXPECT_EQ(log, std::vector<std::string>{"kept"});
}

TEST(EventLoop, WorkDeferredToTheNextTurnRunsThenWithoutWaiting) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask later(log, "later");
  RecordingTask now(log, "now");
  now.action = [&] { loop.defer_to_next_turn(later); };
  loop.defer(now);
  loop.run_once(0);
  EXPECT_EQ(log, std::vector<std::string>{"now"});
  const auto start = std::chrono::steady_clock::now();
  loop.run_once(10'000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(log, (std::vector<std::string>{"now", "later"}));
}

TEST(EventLoop, WorkDueNextTurnCanBeBroughtForwardOrCancelled) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask task(log, "task");
  loop.defer_to_next_turn(task);
  loop.defer(task);  // now wanted this turn: runs once, now
  loop.run_once(0);
  loop.run_once(0);
  EXPECT_EQ(log, std::vector<std::string>{"task"});
  loop.defer_to_next_turn(task);
  loop.cancel(task);
  loop.run_once(0);
  EXPECT_EQ(log.size(), 1u);
}

TEST(EventLoop, MeasuresTheLongestTurn) {
  EventLoop loop;
  std::vector<std::string> log;
  RecordingTask slow(log, "slow");
  slow.action = [] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  EXPECT_EQ(loop.longest_turn().count(), 0);
  loop.defer(slow);
  loop.run_once(0);
  loop.run_once(0);
  EXPECT_GE(loop.longest_turn(), std::chrono::milliseconds(20));
  EXPECT_LT(loop.longest_turn(), std::chrono::seconds(5));
}

}  // namespace
}  // namespace epollchat
