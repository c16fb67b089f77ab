// RoomHistory: the last chat lines said in one room, each with the time it was said, for a
// client that joins the room to read before the live chat.
//
// Owns: a ring of at most capacity() lines ("NAME says >> TEXT" or "* NAME ACTION", without
// the LF), in the form they were first sent: a later /nick does not rewrite them.
// Never: stores a whisper or a "*** " notice (the room records only chat lines and actions);
// reads a file or writes one: the history lives in this process's memory only, and a
// restart forgets it.
// Bounds: capacity() lines, each as long as a line the room delivered (max-line bytes of
// text plus the sender's name). Once the ring is full, recording a line copies it over the
// oldest one, reusing that slot's buffer: a slot allocates only for a line longer than any
// it held before, so the broadcast path does not allocate per line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epollchat::chat {

class RoomHistory {
 public:
  // Seconds since the Unix epoch, UTC.
  using Seconds = std::int64_t;

  // The most lines a room may keep (the `history` setting's bound).
  static constexpr std::size_t kMaxLines = 1000;

  explicit RoomHistory(std::size_t capacity = 0) : capacity_(capacity) {}
  // A moved-from history is empty (and keeps its capacity).
  RoomHistory(RoomHistory&& other) noexcept
      : capacity_(other.capacity_),
        entries_(std::move(other.entries_)),
        oldest_(std::exchange(other.oldest_, 0)),
        count_(std::exchange(other.count_, 0)) {
    other.entries_.clear();
  }
  RoomHistory& operator=(RoomHistory&& other) noexcept {
    capacity_ = other.capacity_;
    entries_ = std::move(other.entries_);
    other.entries_.clear();
    oldest_ = std::exchange(other.oldest_, 0);
    count_ = std::exchange(other.count_, 0);
    return *this;
  }

  // The wall clock's reading for record() (CLOCK_REALTIME_COARSE: a few nanoseconds).
  [[nodiscard]] static Seconds now() noexcept;

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool is_empty() const noexcept { return count_ == 0; }
  // Keeps the newest min(size(), capacity) lines; 0 forgets everything and records nothing.
  void set_capacity(std::size_t capacity);
  // Forgets every line (keeping the capacity and the slots' buffers).
  void clear() noexcept {
    oldest_ = 0;
    count_ = 0;
  }

  // Keeps `line` (a chat line or an action, without its LF) as said at `at`, over the
  // oldest line once capacity() are kept; does nothing with capacity 0.
  void record(std::string_view line, Seconds at);
  // The same, said now; with capacity 0 not even the clock is read.
  void record(std::string_view line) {
    if (capacity_ != 0) record(line, now());
  }
  // The same for "<sender> says >> <text>", formatted (and sanitized) here.
  void record_chat(std::string_view sender, std::string_view text, Seconds at);

  // The i-th oldest line kept, i < size().
  [[nodiscard]] std::string_view line(std::size_t i) const noexcept { return slot(i).line; }
  [[nodiscard]] Seconds time(std::size_t i) const noexcept { return slot(i).at; }

  // What a joining client reads: "*** History:", each line as "[HH:MM:SS] LINE" (UTC, the
  // time it was said), "*** End of history.", each with its LF; "" when nothing is kept.
  // At most `max_bytes` in all: the oldest lines that do not fit are left out (a joiner's
  // replay must not take it over its output backlog), and "" if not even the newest fits.
  // Without the `leave_out_newest` newest lines (a client heard them live).
  [[nodiscard]] std::string replay(std::size_t max_bytes = SIZE_MAX,
                                   std::size_t leave_out_newest = 0) const;

 private:
  struct Entry {
    std::string line;
    Seconds at = 0;
  };

  [[nodiscard]] const Entry& slot(std::size_t i) const noexcept {
    return entries_[(oldest_ + i) % entries_.size()];
  }
  // The slot the next line goes into (the oldest one once the ring is full).
  Entry& next_slot();

  std::size_t capacity_;
  // Grows to capacity_ as lines arrive, then stays: an idle room holds no buffers.
  std::vector<Entry> entries_;
  std::size_t oldest_ = 0;
  std::size_t count_ = 0;
};

}  // namespace epollchat::chat
