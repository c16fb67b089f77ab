// Connection: one client socket with its line codec and output queue.
//
// Owns: the socket fd, the partial input line, the queue of output not yet written.
// Never: knows rooms, nicknames or other connections; destroys itself; lets a peer's
// error escape as an exception. Peer errors (EOF, ECONNRESET, EPIPE) are outcomes
// reported to the handler, not failures.
// Lifetime: after on_closed() the connection does no more I/O and must be destroyed by its
// owner between turns of the loop, never inside a callback of the current turn.
//
// Reading: edge-triggered, so it reads until EAGAIN, or until its per-turn budget is
// spent (kReadsPerTurn reads or kLinesPerTurn lines) and it asks the loop to resume it next
// turn (nothing is left unread forever and one flooding peer cannot starve the others).
// Writing: queue() only queues; the flush runs once per turn from the loop's deferred phase,
// so one writev carries everything the turn produced. EPOLLOUT is watched only while output
// is pending. The backlog is judged after that flush, on what the kernel refused: a turn may
// queue more than max_backlog for a reader that keeps up. Then, if the queue pins much more
// memory than it has to send, it is compacted, so a queue never holds more than about
// 1.25 x max_backlog (+ one chunk) from one turn to the next.
//
// Encrypted: with a TlsStream whose handshake is complete, reads go through it and so do
// writes, each record made from the queue's front bytes; where the kernel encrypts
// (kernel TLS), writes keep the plain sendmsg path. Everything above is the same.
#pragma once

#include <sys/types.h>
#include <cstddef>
#include <cstdint>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/event_loop.hpp"
#include "core/line_codec.hpp"
#include "core/output_queue.hpp"
#include "core/tls_stream.hpp"
#include "core/unique_fd.hpp"

namespace epollchat {

class Connection;

// Limits a peer must not exceed; shared by all connections and changeable at run time
// (a reload), so connections refer to one instance instead of copying it.
struct ConnectionLimits {
  std::size_t max_line = 4096;
  std::size_t max_backlog = 1024 * 1024;
  // Lines per second a peer may send on average, with a burst of one second's worth;
  // beyond it the connection stops reading (TCP backpressure), losing nothing. 0: no limit.
  std::size_t max_rate = 0;
};

enum class CloseReason {
  peer_closed,       // EOF, everything queued was sent
  peer_reset,        // ECONNRESET, EPIPE, or the like
  backlog_exceeded,  // the peer stopped reading and its output passed max_backlog
  reader_stalled,    // the owner cut off a congested peer that made no progress
  flush_stalled,     // the owner cut off a peer that took none of its last output
  server_closed,     // close_after_flush() finished
  io_error,          // any other errno; see Connection::error()
};

class ConnectionHandler {
 public:
  // Before each read of the socket (never while paused): the handler may pause_reading()
  // the connection, and the read waits until it is unpaused. Ignored by default.
  virtual void before_reading(Connection& /*connection*/) {}
  // Each complete, non-empty line, without terminator; valid only during the call.
  virtual void on_line(Connection& connection, std::string_view line) = 0;
  virtual void on_line_too_long(Connection& connection) = 0;
  // After the lines of one read: the moment to hand a batch of lines on.
  virtual void on_input_batch_end(Connection& connection) = 0;
  // The peer is over max_rate: the connection stopped reading. It reads again when
  // resume_reading() is called and its allowance has refilled.
  virtual void on_throttled(Connection& connection) = 0;
  // Unsent output crossed half of max_backlog (true) or fell below a quarter (false).
  // Ignored by default: only an owner that paces senders cares.
  virtual void on_output_congestion(Connection& /*connection*/, bool /*congested*/) {}
  // The peer sent EOF; it will send nothing more but may still be reading.
  virtual void on_peer_finished(Connection& connection) = 0;
  // No more I/O will happen; the owner should destroy the connection after this turn.
  virtual void on_closed(Connection& connection, CloseReason reason) = 0;

 protected:
  ~ConnectionHandler() = default;
};

class Connection final : public Watcher, public DeferredTask {
 public:
  // Takes ownership of a connected, non-blocking `fd` and starts watching it; with `tls`
  // (its handshake complete), everything sent and received is encrypted by it.
  // Throws std::system_error if the loop cannot watch it (the fd is then closed).
  Connection(EventLoop& loop, UniqueFd fd, ConnectionHandler& handler,
             const ConnectionLimits& limits, std::unique_ptr<TlsStream> tls = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues bytes of a shared chunk; false (and nothing queued) when the connection is closed.
  // Whether the backlog is over max_backlog is judged after this turn's flush.
  bool queue(const ChunkRef& chunk, std::size_t offset, std::size_t length);

  // Writes `bytes` now if nothing is queued, as far as the socket takes them, and returns
  // how many went out (0 if output is pending, the socket is full or failed, or the
  // connection is encrypted; a failure is reported by the next read or flush). For the first line
  // on a fresh socket, whose buffer is empty: it then needs no chunk and no queue entry.
  std::size_t write_directly(std::string_view bytes) noexcept;

  // Stops reading, sends what is queued, then closes (CloseReason::server_closed).
  // Anything queued afterwards is still sent.
  void close_after_flush();
  // Closes at once, dropping pending output; on_closed() reports `reason`.
  void close_now(CloseReason reason);
  // After on_throttled(): read again from the next turn (throttles again if still over).
  // Ignored once closed.
  void resume_reading() { loop_.resume_next_turn(*this); }
  // Stops reading until as many unpause_reading() calls: backpressure on a sender while its
  // recipients cannot keep up, or a line that waits for an answer from elsewhere before the
  // next may be handled. Paused from on_line(), the rest of that read waits unhandled.
  // TCP holds what the peer sends meanwhile; nothing is lost. Unpausing a closed
  // connection does nothing.
  void pause_reading() noexcept;
  void unpause_reading();
  [[nodiscard]] bool is_reading_paused() const noexcept { return pauses_ != 0; }
  // Counts `lines` more against this turn's kLinesPerTurn, for a line that costs more than
  // one (a command that lists a whole room).
  void charge_lines(std::size_t lines) noexcept {
    line_budget_ = lines >= line_budget_ ? 0 : static_cast<std::uint16_t>(line_budget_ - lines);
  }
  static constexpr std::uint16_t kLinesPerTurn = 256;
  [[nodiscard]] bool is_congested() const noexcept { return congested_; }
  // When the socket last took output, or when output last became pending.
  [[nodiscard]] CoarseTime last_output_progress() const noexcept { return last_output_progress_; }

  [[nodiscard]] bool is_open() const noexcept { return state_ != State::closed; }
  [[nodiscard]] bool is_reading() const noexcept { return state_ == State::open; }
  // Only sending what is queued before it closes (the peer finished, or close_after_flush()).
  [[nodiscard]] bool is_flushing() const noexcept { return state_ == State::flushing; }
  [[nodiscard]] bool has_pending_output() const noexcept { return !output_.empty(); }
  [[nodiscard]] std::size_t pending_bytes() const noexcept { return output_.pending_bytes(); }
  [[nodiscard]] std::size_t buffered_input_bytes() const noexcept {
    return codec_.buffered_bytes();
  }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] bool is_encrypted() const noexcept { return tls_ != nullptr; }
  [[nodiscard]] const TlsStream* tls() const noexcept { return tls_.get(); }
  [[nodiscard]] ConnectionHandler& handler() const noexcept { return handler_; }
  // How long the incomplete line now buffered has been waiting for its end at `now`
  // (coarse_now()), not counting time in which the server did not read (paused or
  // throttled): only the peer's own delay counts. Zero if there is none.
  [[nodiscard]] CoarseClock::duration partial_line_age(CoarseTime now) const noexcept;
  // The memory the output queue keeps alive (see OutputQueue::pinned_bytes()).
  [[nodiscard]] std::size_t pinned_output_bytes() const noexcept { return output_.pinned_bytes(); }
  // For a planned restart, which hands the connection to the next process (see
  // chat/saved_state.hpp): the input read but not yet handled (an unfinished line, then
  // anything held back while throttled or paused), in order; whether the rest of an
  // oversize line is being skipped; and a copy of the output not yet sent.
  [[nodiscard]] std::string unhandled_input() const;
  [[nodiscard]] bool is_skipping_long_line() const noexcept { return codec_.is_discarding(); }
  [[nodiscard]] std::string unsent_output() const;
  // In the next process, on a fresh Connection over the same socket: takes back what
  // unhandled_input() and is_skipping_long_line() gave, with the unfinished line's age, as
  // if it had just been read; it is handled from the next turn on, before anything the
  // socket holds. The unsent output goes back through queue().
  void restore_input(std::string input, bool skipping_long_line,
                     CoarseClock::duration unfinished_line_age);
  // The line-rate allowance (lines it may still send at once), once it has read anything;
  // and the same taken back in the next process, within what max_rate allows.
  [[nodiscard]] std::optional<double> rate_allowance() const noexcept {
    if (rate_refilled_at_ == CoarseTime()) return std::nullopt;
    return rate_allowance_;
  }
  void restore_rate_allowance(double allowance) noexcept;

  // The errno behind CloseReason::io_error or peer_reset; 0 otherwise.
  [[nodiscard]] int error() const noexcept { return error_; }

  void on_events(std::uint32_t events) override;
  void run_deferred() override;  // the per-turn flush

  // Line-codec sink (public only for the codec's template).
  void on_line(std::string_view line) {
    if (state_ != State::open) return;
    rate_allowance_ -= 1.0;
    charge_lines(1);
    handler_.on_line(*this, line);
  }
  void on_line_too_long() {
    if (state_ == State::open) handler_.on_line_too_long(*this);
  }
  [[nodiscard]] bool wants_more() const noexcept {
    return state_ == State::open && pauses_ == 0 && line_budget_ > 0 &&
           (limits_.max_rate == 0 || rate_allowance_ > 0);
  }

 private:
  enum class State : std::uint8_t {
    open,      // reading and writing
    flushing,  // peer finished or server closing: write what is queued, then close
    closed,
  };

  void read_input();
  // recv() or its TLS equivalent: bytes, 0 at EOF, or -1 with errno (EAGAIN: nothing now).
  ssize_t receive(std::span<char> buffer);
  // Whether a short read emptied everything the peer sent so far (see read_input).
  [[nodiscard]] bool is_input_drained() const noexcept;
  // The TLS counterpart of the sendmsg loop in flush(): false if it stopped (would block or
  // failed) with output still queued.
  bool flush_encrypted();
  // Feeds the codec; keeps what it did not take (the connection was paused, or ran out of
  // rate allowance or of this turn's lines) in held_input_ and returns false then.
  bool decode(std::string_view bytes);
  // Refills the max_rate allowance; false if the peer must wait.
  bool has_rate_allowance(CoarseTime now);
  // The server stops (or starts again) reading: the incomplete line's clock stops with it.
  void stop_reading_clock(CoarseTime now) noexcept;
  void restart_reading_clock(CoarseTime now) noexcept;
  void update_partial_line(CoarseTime now) noexcept;
  void flush();
  // After everything queued went out: stop watching for writability; a flushing
  // connection closes.
  void finish_flush();
  // After a flush: over max_backlog with what the kernel refused, the peer is cut off; a
  // queue that pins far more than it holds is compacted.
  void judge_backlog();
  // For a connection that closes: reads and discards what the peer sent, a bounded amount,
  // so that close() sends FIN rather than RST.
  void drain_input() noexcept;
  void finish(CloseReason reason) noexcept;
  void watch_output(bool enable);
  void update_congestion() noexcept;

  EventLoop& loop_;
  UniqueFd fd_;
  // Next to the fd: two ints in one word keep an idle connection small.
  int error_ = 0;
  ConnectionHandler& handler_;
  const ConnectionLimits& limits_;
  LineCodec codec_;
  OutputQueue output_;
  // Input already read but not yet decoded because the peer is over max_rate: at most one
  // read's worth, and allocated only while the peer is throttled.
  // (Behind a pointer: idle connections are many, throttled ones few.)
  std::unique_ptr<std::string> held_input_;
  // Only for encrypted connections.
  std::unique_ptr<TlsStream> tls_;
  double rate_allowance_ = 0;
  CoarseTime rate_refilled_at_;
  CoarseTime partial_line_since_;
  // When the server stopped reading (paused or throttled), or never while it reads.
  CoarseTime not_reading_since_;
  CoarseTime last_output_progress_;
  State state_ = State::open;
  std::uint16_t line_budget_ = kLinesPerTurn;
  bool watching_output_ = false;
  std::uint8_t pauses_ = 0;
  bool congested_ = false;
  // EPOLLRDHUP was seen: the EOF must be read even after a short read (see read_input).
  bool peer_hung_up_ = false;
  // TLS needed to write before it could read on (a key update's answer): read again as
  // soon as the socket is writable.
  bool read_waits_for_output_ = false;
  // What on_closed() reports once State::flushing has sent everything.
  CloseReason reason_when_flushed_ = CloseReason::peer_closed;
};

}  // namespace epollchat
