#include "core/connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include "core/clock.hpp"
#include "core/tls_stream.hpp"

namespace epollchat {
namespace {

constexpr std::uint32_t kInputEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;

// Reads per connection per turn before yielding to the others (then resumed next turn).
constexpr int kReadsPerTurn = 4;

// iovecs per sendmsg; IOV_MAX is 1024 on Linux, and a batch this size already fills any
// socket buffer with the merged segments the room produces.
constexpr std::size_t kIovecsPerWrite = 256;
static_assert(kIovecsPerWrite <= IOV_MAX);

// Bytes per TLS write: one full record, so that small queued segments (a notice between two
// runs of room lines) are sent in one record and one syscall rather than one each.
constexpr std::size_t kTlsRecordSize = 16 * 1024;

bool is_peer_gone(int error) noexcept {
  return error == ECONNRESET || error == EPIPE || error == ETIMEDOUT || error == EHOSTUNREACH ||
         error == ENETUNREACH;
}

}  // namespace

Connection::Connection(EventLoop& loop, UniqueFd fd, ConnectionHandler& handler,
                       const ConnectionLimits& limits, std::unique_ptr<TlsStream> tls)
    : loop_(loop),
      fd_(std::move(fd)),
      handler_(handler),
      limits_(limits),
      codec_(limits.max_line),
      tls_(std::move(tls)) {
  loop_.watch(fd_.get(), kInputEvents, *this);
  // The handshake may have left input in the socket, or in OpenSSL, that raises no new edge.
  if (tls_) loop_.resume_next_turn(*this);
}

Connection::~Connection() {
  // Closing the fd alone does not take it out of the epoll set while another descriptor
  // refers to the same socket (a restart keeps duplicates in the service manager's store):
  // epoll would go on reporting it for this freed object.
  if (fd_ && is_watched()) loop_.unwatch(fd_.get(), *this);
}

bool Connection::queue(const ChunkRef& chunk, std::size_t offset, std::size_t length) {
  if (state_ == State::closed) return false;
  // Progress is measured from the moment output is waiting, not from the last write of an
  // earlier burst.
  if (output_.empty()) last_output_progress_ = coarse_now();
  output_.push(chunk, offset, length);
  loop_.defer(*this);
  // Congestion is reported as soon as the queue crosses the mark, not only after this
  // turn's flush, so that the owner can stop the senders behind it before their next read.
  // If the flush then drains the queue, the relief is reported as well.
  if (!congested_ && output_.pending_bytes() > limits_.max_backlog / 2) update_congestion();
  return true;
}

std::size_t Connection::write_directly(std::string_view bytes) noexcept {
  if (state_ == State::closed || !output_.empty() || tls_) return 0;
  for (;;) {
    const ssize_t n = send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return 0;
  }
}

void Connection::close_after_flush() {
  if (state_ == State::closed) return;
  state_ = State::flushing;
  reason_when_flushed_ = CloseReason::server_closed;
  // Flushed (and closed if nothing is pending) at the end of this turn.
  loop_.defer(*this);
}

void Connection::close_now(CloseReason reason) { finish(reason); }

void Connection::pause_reading() noexcept {
  if (state_ == State::closed) return;
  if (pauses_++ == 0) stop_reading_clock(coarse_now());
}

void Connection::unpause_reading() {
  if (state_ == State::closed || pauses_ == 0 || --pauses_ != 0) return;
  // Data that arrived while paused raised its edge then; read it without waiting.
  loop_.resume_next_turn(*this);
}

void Connection::stop_reading_clock(CoarseTime now) noexcept {
  if (not_reading_since_ == CoarseTime()) not_reading_since_ = now;
}

void Connection::restart_reading_clock(CoarseTime now) noexcept {
  if (not_reading_since_ == CoarseTime()) return;
  if (partial_line_since_ != CoarseTime()) partial_line_since_ += now - not_reading_since_;
  not_reading_since_ = CoarseTime();
}

CoarseClock::duration Connection::partial_line_age(CoarseTime now) const noexcept {
  if (partial_line_since_ == CoarseTime()) return CoarseClock::duration::zero();
  return (not_reading_since_ != CoarseTime() ? not_reading_since_ : now) - partial_line_since_;
}

void Connection::update_partial_line(CoarseTime now) noexcept {
  if (!codec_.has_partial_line()) {
    partial_line_since_ = CoarseTime();
  } else if (partial_line_since_ == CoarseTime()) {
    partial_line_since_ = now;
  }
}

void Connection::update_congestion() noexcept {
  if (state_ == State::closed) return;
  const std::size_t pending = output_.pending_bytes();
  const bool congested =
      congested_ ? pending > limits_.max_backlog / 4 : pending > limits_.max_backlog / 2;
  if (congested == congested_) return;
  congested_ = congested;
  handler_.on_output_congestion(*this, congested);
}

void Connection::on_events(std::uint32_t events) {
  if (state_ == State::closed) return;
  if ((events & EPOLLOUT) != 0) {
    flush();
    if (read_waits_for_output_) {
      read_waits_for_output_ = false;
      events |= EPOLLIN;
    }
  }
  if (state_ == State::open && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) peer_hung_up_ = true;
    read_input();
  } else if (state_ == State::flushing && (events & (EPOLLHUP | EPOLLERR)) != 0) {
    // Nobody is left to read what is queued.
    finish(CloseReason::peer_reset);
  }
}

void Connection::run_deferred() {
  if (state_ == State::closed) return;
  flush();
  if (state_ != State::closed) judge_backlog();
}

void Connection::judge_backlog() {
  const std::size_t pending = output_.pending_bytes();
  if (pending > limits_.max_backlog) {
    finish(CloseReason::backlog_exceeded);
    return;
  }
  // Copying costs at most max_backlog bytes, and is needed again only after the waste has
  // grown by a quarter of max_backlog: a few bytes per byte the room produced, at worst.
  const std::size_t pinned = output_.pinned_bytes();
  if (pinned > limits_.max_backlog && pinned - pending > limits_.max_backlog / 4) {
    output_.compact();
  }
}

bool Connection::has_rate_allowance(CoarseTime now) {
  if (limits_.max_rate == 0) return true;
  const auto rate = static_cast<double>(limits_.max_rate);
  if (rate_refilled_at_ == CoarseTime()) rate_allowance_ = rate;  // first read: a full burst
  const double elapsed = std::chrono::duration<double>(now - rate_refilled_at_).count();
  rate_allowance_ = std::min(rate, rate_allowance_ + elapsed * rate);
  rate_refilled_at_ = now;
  return rate_allowance_ > 0;
}

std::string Connection::unhandled_input() const {
  std::string input(codec_.partial_line());
  if (held_input_) input.append(*held_input_);
  return input;
}

std::string Connection::unsent_output() const {
  std::string output;
  output_.copy_pending(output);
  return output;
}

void Connection::restore_input(std::string input, bool skipping_long_line,
                               CoarseClock::duration unfinished_line_age) {
  if (state_ != State::open) return;
  if (skipping_long_line) codec_.discard_rest_of_line();
  if (!input.empty()) {
    held_input_ = std::make_unique<std::string>(std::move(input));
    if (unfinished_line_age > CoarseClock::duration::zero()) {
      partial_line_since_ = coarse_now() - unfinished_line_age;
    }
  }
  // Handled next turn even if the socket never raises another edge.
  loop_.resume_next_turn(*this);
}

void Connection::restore_rate_allowance(double allowance) noexcept {
  const auto rate = static_cast<double>(limits_.max_rate);
  // Refilled from now on: the restart's gap earns nothing. A state from elsewhere cannot
  // hold a client back for more than a second.
  rate_allowance_ = std::clamp(allowance, -rate, rate);
  rate_refilled_at_ = coarse_now();
}

bool Connection::decode(std::string_view bytes) {
  const std::size_t consumed = codec_.feed(bytes, *this);
  if (consumed == bytes.size() || state_ != State::open) return true;
  held_input_ = std::make_unique<std::string>(bytes.substr(consumed));
  return false;
}

void Connection::read_input() {
  if (state_ != State::open || pauses_ != 0) return;
  handler_.before_reading(*this);
  if (state_ != State::open || pauses_ != 0) return;
  const CoarseTime now = coarse_now();
  if (!has_rate_allowance(now)) {
    stop_reading_clock(now);
    handler_.on_throttled(*this);
    return;
  }
  restart_reading_clock(now);
  line_budget_ = kLinesPerTurn;
  codec_.set_max_line(limits_.max_line);
  bool got_input = false;
  // Input was left undecoded: paused, over the rate, or out of this turn's lines.
  bool held = false;
  if (held_input_) {
    got_input = true;
    std::string input;
    input.swap(*held_input_);
    held_input_.reset();
    held = !decode(input);
  }
  const std::span<char> buffer = loop_.read_buffer();
  for (int reads = 0; !held && state_ == State::open; ++reads) {
    if (reads == kReadsPerTurn) {
      loop_.resume_next_turn(*this);
      break;
    }
    const ssize_t n = receive(buffer);
    if (n > 0) {
      got_input = true;
      // What the codec does not take now waits in held_input_, and TCP holds what is still
      // unread, so the sender is slowed down and nothing is lost.
      held = !decode(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      // A short read emptied the socket buffer, and data arriving later raises a new edge,
      // so the recv() that would only say EAGAIN is skipped. Not after EPOLLRDHUP: the
      // EOF behind the data raises no further edge and must be read now.
      if (static_cast<std::size_t>(n) < buffer.size() && !peer_hung_up_ && is_input_drained()) {
        break;
      }
      continue;
    }
    if (n == 0) {
      if (got_input) handler_.on_input_batch_end(*this);
      got_input = false;
      state_ = State::flushing;
      handler_.on_peer_finished(*this);
      loop_.defer(*this);
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    error_ = errno;
    finish(is_peer_gone(error_) ? CloseReason::peer_reset : CloseReason::io_error);
    return;
  }
  if (got_input && state_ != State::closed) handler_.on_input_batch_end(*this);
  update_partial_line(now);
  if (!held || state_ != State::open || pauses_ != 0) return;
  if (line_budget_ == 0) {
    // The others get their turn first; the rest is handled next turn.
    loop_.resume_next_turn(*this);
    return;
  }
  stop_reading_clock(now);
  handler_.on_throttled(*this);
}

ssize_t Connection::receive(std::span<char> buffer) {
  if (!tls_) return recv(fd_.get(), buffer.data(), buffer.size(), 0);
  const TlsStream::Result result = tls_->read(buffer);
  switch (result.status) {
    case TlsStatus::ok:
      return static_cast<ssize_t>(result.bytes);
    case TlsStatus::closed:
      return 0;
    case TlsStatus::want_write:
      read_waits_for_output_ = true;
      watch_output(true);
      [[fallthrough]];
    case TlsStatus::want_read:
      errno = EAGAIN;
      return -1;
    case TlsStatus::failed:
      break;
  }
  errno = tls_->error() != 0 ? tls_->error() : EPROTO;
  return -1;
}

bool Connection::is_input_drained() const noexcept { return !tls_ || tls_->is_drained(); }

bool Connection::flush_encrypted() {
  std::array<char, kTlsRecordSize> record;
  iovec iov[kIovecsPerWrite];
  while (!output_.empty()) {
    const std::size_t segments = output_.iovecs(iov, kIovecsPerWrite);
    std::string_view bytes(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len);
    if (bytes.size() < record.size() && segments > 1) {
      // Gathered into one record. A retry after want_write gathers the same front bytes.
      std::size_t length = 0;
      for (std::size_t i = 0; i < segments && length < record.size(); ++i) {
        const std::size_t take = std::min(iov[i].iov_len, record.size() - length);
        std::memcpy(record.data() + length, iov[i].iov_base, take);
        length += take;
      }
      bytes = std::string_view(record.data(), length);
    }
    const TlsStream::Result result = tls_->write(bytes);
    if (result.status == TlsStatus::ok) {
      output_.consume(result.bytes);
      last_output_progress_ = coarse_now();
      continue;
    }
    if (result.status == TlsStatus::want_write || result.status == TlsStatus::want_read) {
      // want_read (TLS must read before it can write) cannot happen without renegotiation,
      // which is off; waiting for writability covers it all the same.
      watch_output(true);
      update_congestion();
      return false;
    }
    error_ = tls_->error() != 0 ? tls_->error() : EPROTO;
    finish(is_peer_gone(error_) ? CloseReason::peer_reset : CloseReason::io_error);
    return false;
  }
  return true;
}

void Connection::flush() {
  if (tls_ && !tls_->sends_through_kernel()) {
    if (!flush_encrypted()) return;
    finish_flush();
    return;
  }
  iovec iov[kIovecsPerWrite];
  while (!output_.empty()) {
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = output_.iovecs(iov, kIovecsPerWrite);
    const ssize_t n = sendmsg(fd_.get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      output_.consume(static_cast<std::size_t>(n));
      if (n > 0) last_output_progress_ = coarse_now();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      watch_output(true);
      update_congestion();
      return;
    }
    error_ = errno;
    finish(is_peer_gone(error_) ? CloseReason::peer_reset : CloseReason::io_error);
    return;
  }
  finish_flush();
}

void Connection::finish_flush() {
  if (!read_waits_for_output_) watch_output(false);
  update_congestion();
  if (state_ == State::flushing) {
    // Everything is out. shutdown() sends FIN after the queued bytes; the input still
    // unread is drained first, because close() with unread input makes the kernel send
    // RST, which can destroy the peer's copy of our last lines.
    if (tls_) tls_->send_close_notify();
    (void)shutdown(fd_.get(), SHUT_WR);
    drain_input();
    finish(reason_when_flushed_);
  }
}

void Connection::drain_input() noexcept {
  // Bounded: a peer that keeps sending after the goodbye gets the RST it asked for.
  const std::span<char> buffer = loop_.read_buffer();
  for (int reads = 0; reads < kReadsPerTurn; ++reads) {
    if (recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT) <= 0) return;
  }
}

void Connection::watch_output(bool enable) {
  if (watching_output_ == enable) return;
  try {
    loop_.modify(fd_.get(), enable ? kInputEvents | EPOLLOUT : kInputEvents, *this);
    watching_output_ = enable;
  } catch (const std::system_error& failure) {
    error_ = failure.code().value();
    finish(CloseReason::io_error);
  }
}

void Connection::finish(CloseReason reason) noexcept {
  if (state_ == State::closed) return;
  state_ = State::closed;
  // The owner forgets a closed connection's congestion along with the connection.
  congested_ = false;
  output_.clear();
  loop_.cancel(*this);
  loop_.unwatch(fd_.get(), *this);
  if (reason == CloseReason::backlog_exceeded || reason == CloseReason::reader_stalled ||
      reason == CloseReason::flush_stalled) {
    // Reset rather than close: a plain close() would leave the kernel an orphan socket
    // still trying to push a full send buffer (megabytes) at a peer that does not read,
    // for as long as its zero-window probes go on.
    const linger reset_on_close{1, 0};
    (void)setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  }
  fd_.reset();
  handler_.on_closed(*this, reason);
}

}  // namespace epollchat
