// LineCodec: splits a byte stream into chat lines.
//
// Owns: the bytes of at most one incomplete line (never more than max_line + 1 bytes).
// Never: sees an fd, a clock or a logger; allocates while no partial line is pending.
// Lifetime: one per connection; feed() may be called with arbitrary splits of the stream.
//
// Framing (the protocol, exactly): a line ends at LF or at NUL. One CR right before the
// LF is dropped. Empty lines are ignored, so the original tutorial's client, which pads
// every message with NULs to 65535 bytes, produces one line per message. A line longer
// than max_line bytes is reported once through on_line_too_long() and discarded up to
// its end; the stream then continues normally.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace epollchat {

class LineCodec {
 public:
  explicit LineCodec(std::size_t max_line) noexcept : max_line_(clamped(max_line)) {}

  // Takes effect for the next byte fed; a partial line already longer is cut off then.
  void set_max_line(std::size_t max_line) noexcept { max_line_ = clamped(max_line); }
  [[nodiscard]] std::size_t max_line() const noexcept { return max_line_; }

  [[nodiscard]] bool has_partial_line() const noexcept { return !partial_.empty() || discarding_; }
  [[nodiscard]] std::size_t buffered_bytes() const noexcept { return partial_.size(); }
  // The incomplete line so far, and whether the codec is skipping the rest of a line that
  // was too long: what a restart hands on, so that the stream goes on where it stopped.
  [[nodiscard]] std::string_view partial_line() const noexcept { return partial_; }
  [[nodiscard]] bool is_discarding() const noexcept { return discarding_; }
  // Skips everything up to the next line end, as after an oversize line (already reported).
  void discard_rest_of_line() noexcept {
    release_partial();
    discarding_ = true;
  }

  // Feeds `bytes` and calls, in stream order, sink.on_line(std::string_view) for every
  // complete non-empty line (valid only during the call) and sink.on_line_too_long() once
  // per oversize line. A sink with `bool wants_more()` can stop the feed after any line;
  // feed() returns how many bytes it consumed, and the caller feeds the rest later.
  template <typename Sink>
  std::size_t feed(std::string_view bytes, Sink& sink) {
    const char* cursor = bytes.data();
    const char* const end = cursor + bytes.size();
    // The next LF is searched for once and reused until the cursor passes it, and NULs only
    // before it: every byte is scanned a bounded number of times, so NUL-heavy input (the
    // tutorial's padding, or an attacker's) costs linear time, not quadratic.
    const char* newline = find(cursor, end, '\n');
    while (cursor < end) {
      if (newline != nullptr && newline < cursor) newline = find(cursor, end, '\n');
      const char* limit = newline != nullptr ? newline : end;
      const char* nul = find(cursor, limit, '\0');
      const char* terminator = nul != nullptr ? nul : newline;
      if (terminator == nullptr) {
        keep_partial(std::string_view(cursor, static_cast<std::size_t>(end - cursor)), sink);
        return bytes.size();
      }
      finish_line(std::string_view(cursor, static_cast<std::size_t>(terminator - cursor)),
                  *terminator == '\n', sink);
      cursor = terminator + 1;
      // A run of NULs is a run of empty lines, which are ignored: skip it in one pass.
      while (cursor < end && *cursor == '\0') ++cursor;
      if constexpr (requires { sink.wants_more(); }) {
        if (!sink.wants_more()) break;
      }
    }
    return static_cast<std::size_t>(cursor - bytes.data());
  }

 private:
  static const char* find(const char* begin, const char* end, char byte) noexcept {
    return static_cast<const char*>(
        std::memchr(begin, byte, static_cast<std::size_t>(end - begin)));
  }

  template <typename Sink>
  void finish_line(std::string_view tail, bool ended_by_newline, Sink& sink) {
    if (discarding_) {
      // The oversize line was already reported when it crossed the limit.
      discarding_ = false;
      return;
    }
    std::string_view line = tail;
    if (!partial_.empty()) {
      partial_.append(tail);
      line = partial_;
    }
    if (ended_by_newline && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_line_) {
      sink.on_line_too_long();
    } else if (!line.empty()) {
      sink.on_line(line);
    }
    release_partial();
  }

  template <typename Sink>
  void keep_partial(std::string_view rest, Sink& sink) {
    if (discarding_) return;
    // One byte of slack: the line may still turn out to end in CR LF.
    if (partial_.size() + rest.size() > max_line_ + 1) {
      release_partial();
      discarding_ = true;
      sink.on_line_too_long();
      return;
    }
    partial_.append(rest);
  }

  // Returns the buffer's memory, so an idle connection holds no input buffer.
  void release_partial() noexcept {
    if (partial_.capacity() > kKeptCapacity) {
      std::string().swap(partial_);
    } else {
      partial_.clear();
    }
  }

  // std::string's inline buffer; anything larger is returned once the line is complete.
  static constexpr std::size_t kKeptCapacity = 15;

  // 32 bits: every connection has a codec, and no line is 4 GiB long.
  static std::uint32_t clamped(std::size_t max_line) noexcept {
    return static_cast<std::uint32_t>(std::min<std::size_t>(max_line, UINT32_MAX - 1));
  }

  std::string partial_;
  std::uint32_t max_line_;
  bool discarding_ = false;
};

}  // namespace epollchat
