// FlowControl: which clients the server stops reading for a while, and which it cuts off, so
// that no client makes it queue more than the limits allow, none starves the others, and none
// is lost to a wait the server itself caused.
//
// Owns: the ids of the throttled, paused, congested and closing sessions, the count of
// congested members per room, and the timers that look at them again.
// Never: keeps a Session or Room pointer across turns without a way to forget it (sessions are
// found by id, so one that is gone is skipped; rooms are counted only while they have
// congested members, who tell it when they leave); writes chat output other than the
// line-timeout notice; destroys a session (it closes connections; the Server reaps them).
// Lifetime: owned by the Server, after its sessions; every session is retire()d before it is
// destroyed.
//
// The rules, each with the limit a test measures (docs/SECURITY.md):
// - A recipient is congested while more than half of max-backlog waits for it, until it is
//   below a quarter again.
// - A heavy sender (one that made the server queue kHeavySenderBytes per recipient beyond a
//   drain of kSenderDrainPerSecond) is not read while a member of its room is congested, and
//   a client is not read while its own output is congested. Reading stops before the next
//   read and at the end of a batch; TCP holds the rest, so nothing is lost. Once nothing
//   stands in the way, paused clients are resumed one per room per turn, so that their
//   batches do not land in one reader's queue at once.
// - A congested recipient that takes no output for kStallTimeout is cut off.
// - A client over max-rate is looked at again every kThrottleRecheck.
// - An incomplete line older than line-timeout (counting only time in which the server was
//   reading) ends the session with a notice.
// - A connection that only flushes (its peer finished, /quit, a line timeout) and takes no
//   output for kFlushTimeout is cut off: it no longer holds a slot while nobody reads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chat/room.hpp"
#include "chat/session.hpp"
#include "core/event_loop.hpp"
#include "core/log.hpp"
#include "core/repeated_log.hpp"
#include "core/timer.hpp"

namespace epollchat::chat {

using SessionMap = std::unordered_map<std::uint64_t, std::unique_ptr<Session>>;

class FlowControl final : public DeferredTask {
 public:
  static constexpr auto kStallTimeout = std::chrono::seconds(3);
  static constexpr auto kStallCheck = std::chrono::milliseconds(250);
  static constexpr auto kFlushTimeout = std::chrono::seconds(10);
  static constexpr auto kThrottleRecheck = std::chrono::milliseconds(50);
  // How often incomplete lines and flushing connections are looked at.
  static constexpr auto kSweepInterval = std::chrono::seconds(1);
  static constexpr std::uint64_t kHeavySenderBytes = 64 * 1024;
  static constexpr std::uint64_t kSenderDrainPerSecond = 64 * 1024;

  FlowControl(EventLoop& loop, const Log& log, const SessionMap& sessions,
              std::chrono::seconds line_timeout);
  FlowControl(const FlowControl&) = delete;
  FlowControl& operator=(const FlowControl&) = delete;

  void set_line_timeout(std::chrono::seconds timeout);

  // From sessions:
  // Before a read of the session's socket: pauses it if it may not be read now.
  void before_reading(Session& session);
  // After the lines of one read were handled: pauses a heavy sender whose room is congested.
  void after_batch(Session& session);
  // The session is over max-rate and stopped reading.
  void throttle(Session& session);
  // The session's unsent output crossed half of max-backlog (true) or fell below a quarter.
  void set_congested(Session& session, bool congested);
  // Membership, so that each room knows whether it has a congested member.
  void entered_room(const Session& session, const Room& room);
  void leaving_room(const Session& session, const Room& room);
  // The session's connection only flushes from now on.
  void closing(const Session& session);
  // The session's connection closed; forget it.
  void retire(const Session& session);

  [[nodiscard]] bool is_congested(const Session& session) const;
  [[nodiscard]] bool has_congested_member(const Room& room) const {
    return congested_rooms_.find(&room) != congested_rooms_.end();
  }
  [[nodiscard]] std::size_t paused_count() const noexcept { return paused_.size(); }

  // What the timers run, at once: for tests and the fuzzer, after moving the clock on.
  void run_checks();

  // Resumes paused clients (see resume_paused); run in the turn after something freed them.
  void run_deferred() override { resume_paused(); }

 private:
  [[nodiscard]] Session* find(std::uint64_t id) const;
  [[nodiscard]] bool may_read(const Session& session) const;
  void pause(Session& session);
  void count_room(const Room& room, int change);
  // Resumes what nothing holds back any more, one per room this turn; the rest next turn.
  void resume_paused();
  void schedule_resume();
  void resume_throttled();
  void cut_off_stalled_readers();
  void sweep();
  void arm_sweep();

  const SessionMap& sessions_;
  RepeatedLog line_timeout_log_;
  std::chrono::seconds line_timeout_;
  std::vector<std::uint64_t> throttled_;
  std::unordered_set<std::uint64_t> congested_;
  // In the order they were paused, so the first paused is the first resumed.
  std::vector<std::uint64_t> paused_;
  std::vector<std::uint64_t> closing_;
  std::unordered_map<const Room*, std::size_t> congested_rooms_;
  EventLoop& loop_;
  Timer throttle_timer_;
  Timer stall_timer_;
  Timer sweep_timer_;
};

}  // namespace epollchat::chat
