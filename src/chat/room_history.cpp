#include "chat/room_history.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "chat/protocol.hpp"

namespace epollchat::chat {

RoomHistory::Seconds RoomHistory::now() noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return now.tv_sec;
}

void RoomHistory::set_capacity(std::size_t capacity) {
  if (capacity == capacity_) return;
  // Not on the hot path (a reload): the kept lines are laid out afresh, oldest first.
  std::vector<Entry> kept;
  const std::size_t keep = std::min(count_, capacity);
  kept.reserve(keep);
  for (std::size_t i = count_ - keep; i < count_; ++i) {
    kept.push_back(std::move(entries_[(oldest_ + i) % entries_.size()]));
  }
  entries_ = std::move(kept);
  entries_.shrink_to_fit();
  oldest_ = 0;
  count_ = keep;
  capacity_ = capacity;
}

RoomHistory::Entry& RoomHistory::next_slot() {
  if (entries_.size() < capacity_) {
    ++count_;
    return entries_.emplace_back();
  }
  // Full: the oldest slot becomes the newest.
  Entry& slot = entries_[oldest_];
  if (++oldest_ == entries_.size()) oldest_ = 0;
  return slot;
}

void RoomHistory::record(std::string_view line, Seconds at) {
  if (capacity_ == 0) return;
  Entry& slot = next_slot();
  slot.line.assign(line);
  slot.at = at;
}

void RoomHistory::record_chat(std::string_view sender, std::string_view text, Seconds at) {
  if (capacity_ == 0) return;
  Entry& slot = next_slot();
  slot.line.resize(protocol::chat_line_size(sender, text));
  protocol::write_chat_line(slot.line.data(), sender, text);
  slot.line.pop_back();  // the LF
  slot.at = at;
}

std::string RoomHistory::replay(std::size_t max_bytes, std::size_t leave_out_newest) const {
  constexpr std::string_view kStart = protocol::kHistoryStartLine;
  constexpr std::string_view kEnd = protocol::kHistoryEndLine;
  constexpr std::size_t kStamp = sizeof("[HH:MM:SS] ") - 1;
  // The newest lines that fit, from `first` to `end`.
  const std::size_t end = count_ - std::min(leave_out_newest, count_);
  std::size_t length = kStart.size() + kEnd.size();
  std::size_t first = end;
  while (first > 0 && length + kStamp + line(first - 1).size() + 1 <= max_bytes) {
    --first;
    length += kStamp + line(first).size() + 1;
  }
  if (first == end) return {};
  std::string out;
  out.reserve(length);
  out += kStart;
  for (std::size_t i = first; i < end; ++i) {
    const time_t at = static_cast<time_t>(time(i));
    tm utc{};
    gmtime_r(&at, &utc);
    char stamp[kStamp + 1];
    std::snprintf(stamp, sizeof stamp, "[%02d:%02d:%02d] ", utc.tm_hour, utc.tm_min, utc.tm_sec);
    out.append(stamp, kStamp);
    out += line(i);
    out += '\n';
  }
  out += kEnd;
  return out;
}

}  // namespace epollchat::chat
