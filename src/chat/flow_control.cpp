#include "chat/flow_control.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "chat/protocol.hpp"
#include "core/clock.hpp"

namespace epollchat::chat {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

}  // namespace

FlowControl::FlowControl(EventLoop& loop, const Log& log, const SessionMap& sessions,
                         std::chrono::seconds line_timeout)
    : sessions_(sessions),
      line_timeout_log_(log, LogLevel::notice),
      line_timeout_(line_timeout),
      loop_(loop),
      throttle_timer_(loop, [this] { resume_throttled(); }),
      stall_timer_(loop, [this] { cut_off_stalled_readers(); }),
      sweep_timer_(loop, [this] { sweep(); }) {
  arm_sweep();
}

void FlowControl::set_line_timeout(std::chrono::seconds timeout) {
  line_timeout_ = timeout;
  arm_sweep();
}

Session* FlowControl::find(std::uint64_t id) const {
  const auto found = sessions_.find(id);
  return found == sessions_.end() ? nullptr : found->second.get();
}

bool FlowControl::is_congested(const Session& session) const {
  return congested_.find(session.id()) != congested_.end();
}

bool FlowControl::may_read(const Session& session) const {
  if (congested_.empty()) return true;  // the hot path: nobody is congested
  if (is_congested(session)) return false;
  const Room* room = session.room();
  return room == nullptr || session.recent_output_bytes() < kHeavySenderBytes ||
         !has_congested_member(*room);
}

void FlowControl::pause(Session& session) {
  Connection& connection = session.connection();
  if (!connection.is_reading()) return;
  connection.pause_reading();
  paused_.push_back(session.id());
}

void FlowControl::before_reading(Session& session) {
  if (!may_read(session)) pause(session);
}

void FlowControl::after_batch(Session& session) {
  if (!may_read(session) && !session.connection().is_reading_paused()) pause(session);
}

void FlowControl::throttle(Session& session) {
  throttled_.push_back(session.id());
  if (!throttle_timer_.is_armed())
    throttle_timer_.arm(duration_cast<microseconds>(kThrottleRecheck));
}

void FlowControl::resume_throttled() {
  std::vector<std::uint64_t> waiting;
  waiting.swap(throttled_);
  // A session may be listed twice; resuming twice in one turn is harmless.
  for (const std::uint64_t id : waiting) {
    if (Session* session = find(id)) session->connection().resume_reading();
  }
}

void FlowControl::count_room(const Room& room, int change) {
  if (change > 0) {
    ++congested_rooms_[&room];
    return;
  }
  const auto found = congested_rooms_.find(&room);
  if (found != congested_rooms_.end() && --found->second == 0) {
    congested_rooms_.erase(found);
    schedule_resume();
  }
}

void FlowControl::set_congested(Session& session, bool congested) {
  if (congested) {
    if (!congested_.insert(session.id()).second) return;
    if (const Room* room = session.room()) count_room(*room, +1);
    if (!stall_timer_.is_armed()) {
      stall_timer_.arm(duration_cast<microseconds>(kStallCheck),
                       duration_cast<microseconds>(kStallCheck));
    }
    return;
  }
  if (congested_.erase(session.id()) == 0) return;
  if (const Room* room = session.room()) count_room(*room, -1);
  if (congested_.empty()) stall_timer_.disarm();
  schedule_resume();
}

void FlowControl::entered_room(const Session& session, const Room& room) {
  if (is_congested(session)) count_room(room, +1);
}

void FlowControl::leaving_room(const Session& session, const Room& room) {
  if (is_congested(session)) count_room(room, -1);
}

void FlowControl::closing(const Session& session) {
  if (std::find(closing_.begin(), closing_.end(), session.id()) == closing_.end()) {
    closing_.push_back(session.id());
  }
  arm_sweep();
}

void FlowControl::retire(const Session& session) {
  const std::uint64_t id = session.id();
  if (congested_.erase(id) != 0) {
    if (const Room* room = session.room()) count_room(*room, -1);
    if (congested_.empty()) stall_timer_.disarm();
  }
  std::erase(paused_, id);
  std::erase(throttled_, id);
  std::erase(closing_, id);
  if (closing_.empty()) arm_sweep();
  schedule_resume();
}

void FlowControl::schedule_resume() {
  // Next turn, not this one: what this turn queued is flushed first.
  if (!paused_.empty()) loop_.defer_to_next_turn(*this);
}

void FlowControl::resume_paused() {
  std::set<const Room*> resumed_in;
  bool more = false;
  std::vector<std::uint64_t> still_paused;
  still_paused.reserve(paused_.size());
  for (const std::uint64_t id : paused_) {
    Session* session = find(id);
    if (session == nullptr || !session->connection().is_reading()) continue;
    if (!may_read(*session)) {
      still_paused.push_back(id);
      continue;
    }
    const Room* room = session->room();
    if (!resumed_in.insert(room).second) {
      still_paused.push_back(id);
      more = true;
      continue;
    }
    session->connection().unpause_reading();
  }
  paused_.swap(still_paused);
  if (more) schedule_resume();
}

void FlowControl::cut_off_stalled_readers() {
  const CoarseTime stalled_before = coarse_now() - kStallTimeout;
  // Copied: cutting one off retires it, which edits congested_.
  const std::vector<std::uint64_t> congested(congested_.begin(), congested_.end());
  for (const std::uint64_t id : congested) {
    Session* session = find(id);
    if (session == nullptr) continue;
    Connection& connection = session->connection();
    if (connection.is_open() && connection.last_output_progress() < stalled_before) {
      connection.close_now(CloseReason::reader_stalled);
    }
  }
  if (congested_.empty()) stall_timer_.disarm();
}

void FlowControl::arm_sweep() {
  const bool needed = line_timeout_.count() != 0 || !closing_.empty();
  if (!needed) {
    sweep_timer_.disarm();
  } else if (!sweep_timer_.is_armed()) {
    sweep_timer_.arm(duration_cast<microseconds>(kSweepInterval),
                     duration_cast<microseconds>(kSweepInterval));
  }
}

void FlowControl::sweep() {
  const CoarseTime now = coarse_now();
  const CoarseTime flush_stalled_before = now - kFlushTimeout;
  // Copied: closing one retires it, which edits closing_.
  const std::vector<std::uint64_t> flushing = closing_;
  for (const std::uint64_t id : flushing) {
    Session* session = find(id);
    if (session == nullptr) continue;
    Connection& connection = session->connection();
    if (connection.is_open() && connection.has_pending_output() &&
        connection.last_output_progress() < flush_stalled_before) {
      connection.close_now(CloseReason::flush_stalled);
    }
  }
  if (line_timeout_.count() == 0) return;
  std::vector<Session*> timed_out;
  for (const auto& [id, session] : sessions_) {
    const Connection& connection = session->connection();
    if (connection.is_reading() && connection.partial_line_age(now) > line_timeout_) {
      timed_out.push_back(session.get());
    }
  }
  for (Session* session : timed_out) {
    line_timeout_log_.write("client #" + std::to_string(session->id()) +
                            " disconnected: incomplete line older than " +
                            std::to_string(line_timeout_.count()) + " s");
    session->reply(protocol::line_timeout_line(static_cast<std::size_t>(line_timeout_.count())));
    session->connection().close_after_flush();
    closing(*session);
  }
}

void FlowControl::run_checks() {
  resume_throttled();
  cut_off_stalled_readers();
  resume_paused();
  sweep();
}

}  // namespace epollchat::chat
