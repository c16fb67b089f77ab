#include "client/chat_client.hpp"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <system_error>
#include <utility>

#include "client/terminal_text.hpp"
#include "client/write_all.hpp"
#include "core/socket.hpp"

namespace epollchat::client {
namespace {

constexpr std::uint64_t kSocketTag = 1;
constexpr std::uint64_t kInputTag = 2;
constexpr std::uint64_t kSignalTag = 3;

constexpr std::size_t kReadChunk = 64U << 10;
// At most this many reads from one fd per loop turn, so a flood from the server cannot
// keep typed lines from leaving, nor a long paste keep server lines from showing.
constexpr int kChunksPerTurn = 16;

constexpr std::string_view kClosedByServer = "*** Connection closed by server.\n";

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void watch(int epoll, int fd, std::uint32_t events, std::uint64_t tag) {
  epoll_event event{};
  event.events = events | EPOLLET;
  event.data.u64 = tag;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl");
}

void note_dropped_line(const char* from) noexcept {
  std::fprintf(stderr, "epollchat: a line %s was longer than %zu bytes and was dropped\n", from,
               ChatClient::kMaxLine);
}

}  // namespace

struct ChatClient::ServerLines {
  ChatClient& client;
  void on_line(std::string_view line) {
    append_displayable(client.display_, line);
    client.display_.push_back('\n');
  }
  void on_line_too_long() noexcept { note_dropped_line("from the server"); }
};

struct ChatClient::TypedLines {
  ChatClient& client;
  void on_line(std::string_view line) {
    client.output_.append(line);
    client.output_.push_back('\n');
  }
  void on_line_too_long() noexcept { note_dropped_line("of input"); }
};

ChatClient::ChatClient(UniqueFd socket, StdinReader& input, const sigset_t& signals)
    : socket_(std::move(socket)), input_(input), read_buffer_(kReadChunk) {
  set_nonblocking(socket_.get());
  set_tcp_nodelay(socket_.get());
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw_errno("epoll_create1");
  signals_ = UniqueFd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals_) throw_errno("signalfd");
  // Edge-triggered EPOLLOUT is reported only when the socket turns writable again after
  // a send() hit EAGAIN, so it can stay registered for the whole session.
  watch(epoll_.get(), socket_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, kSocketTag);
  watch(epoll_.get(), input_.fd(), EPOLLIN, kInputTag);
  watch(epoll_.get(), signals_.get(), EPOLLIN, kSignalTag);
}

SessionEnd ChatClient::run() {
  while (!end_) {
    do_ready_work();
    if (end_) break;
    if (deadline_ && Clock::now() >= *deadline_) {
      end_ = SessionEnd::user_left;
      break;
    }
    wait_for_events();
  }
  show_pending_lines();
  input_.stop();
  return *end_;
}

bool ChatClient::has_ready_work() const noexcept {
  return signals_readable_ || socket_readable_ ||
         (input_readable_ && !input_closed_ && pending_output() < kHighWater) ||
         (socket_writable_ && pending_output() > 0 && !connection_lost_);
}

void ChatClient::do_ready_work() {
  if (signals_readable_) read_signals();
  if (end_) return;
  if (socket_readable_) read_server();
  if (end_) return;
  forward_input();
  shut_down_writing_when_done();
}

void ChatClient::wait_for_events() {
  int timeout = -1;
  if (has_ready_work()) {
    timeout = 0;
  } else if (deadline_) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - Clock::now()).count();
    timeout = static_cast<int>(std::clamp<decltype(left)>(left, 0, INT_MAX));
  }
  epoll_event events[4];
  const int count = ::epoll_wait(epoll_.get(), events, 4, timeout);
  if (count < 0) {
    if (errno == EINTR) return;
    throw_errno("epoll_wait");
  }
  for (int i = 0; i < count; ++i) {
    const std::uint32_t flags = events[i].events;
    switch (events[i].data.u64) {
      case kSocketTag:
        // Errors and hang-ups are discovered by the next recv() or send().
        if ((flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) socket_readable_ = true;
        if ((flags & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) socket_writable_ = true;
        break;
      case kInputTag:
        input_readable_ = true;  // EPOLLHUP too: read() then returns 0.
        break;
      case kSignalTag:
        signals_readable_ = true;
        break;
      default:
        break;
    }
  }
}

void ChatClient::read_server() {
  for (int turn = 0; turn < kChunksPerTurn; ++turn) {
    const ssize_t got = ::recv(socket_.get(), read_buffer_.data(), read_buffer_.size(), 0);
    if (got > 0) {
      ServerLines sink{*this};
      from_server_.feed(std::string_view(read_buffer_.data(), static_cast<std::size_t>(got)), sink);
      continue;
    }
    if (got == 0 || errno == ECONNRESET) {
      end_by_server();
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      socket_readable_ = false;
      // After send() saw the connection gone, nothing more will arrive.
      if (connection_lost_) end_by_server();
      break;
    }
    const int error = errno;
    show_pending_lines();
    throw std::system_error(error, std::generic_category(), "cannot read from the server");
  }
  show_pending_lines();
}

void ChatClient::end_by_server() {
  // A last line without LF is still shown.
  ServerLines sink{*this};
  from_server_.feed("\n", sink);
  if (write_shut_down_) {
    // Our own FIN came first: this is the server answering it.
    end_ = SessionEnd::user_left;
  } else {
    display_.append(kClosedByServer);
    end_ = SessionEnd::server_closed;
  }
  show_pending_lines();
}

void ChatClient::show_pending_lines() {
  if (display_.empty()) return;
  const int error = write_all(STDOUT_FILENO, display_);
  display_.clear();
  if (error != 0) {
    throw std::system_error(error, std::generic_category(), "cannot write to standard output");
  }
}

void ChatClient::forward_input() {
  for (int turn = 0; turn < kChunksPerTurn; ++turn) {
    if (socket_writable_ && pending_output() > 0 && !connection_lost_) send_output();
    if (!input_readable_ || input_closed_ || pending_output() >= kHighWater) break;
    read_input_chunk();
  }
  if (socket_writable_ && pending_output() > 0 && !connection_lost_) send_output();
}

void ChatClient::read_input_chunk() {
  const ssize_t got = ::read(input_.fd(), read_buffer_.data(), read_buffer_.size());
  if (got > 0) {
    TypedLines sink{*this};
    from_input_.feed(std::string_view(read_buffer_.data(), static_cast<std::size_t>(got)), sink);
  } else if (got == 0) {
    // The child is done. Bytes after its last LF (it was killed mid-line) are dropped:
    // only whole lines are ever sent.
    input_closed_ = true;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    input_readable_ = false;
  } else if (errno != EINTR) {
    throw_errno("cannot read from the input pipe");
  }
}

void ChatClient::send_output() {
  while (pending_output() > 0) {
    const ssize_t sent =
        ::send(socket_.get(), output_.data() + sent_, pending_output(), MSG_NOSIGNAL);
    if (sent >= 0) {
      sent_ += static_cast<std::size_t>(sent);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      socket_writable_ = false;
      break;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      // The server is gone; what it already sent may still be readable.
      connection_lost_ = true;
      socket_readable_ = true;
      output_.clear();
      sent_ = 0;
      return;
    }
    throw_errno("cannot send to the server");
  }
  if (sent_ == output_.size()) {
    output_.clear();
    sent_ = 0;
    // A long paste may have grown the buffer; an idle client holds no more than that.
    if (output_.capacity() > kHighWater) std::string().swap(output_);
  } else if (sent_ >= kReadChunk) {
    output_.erase(0, sent_);
    sent_ = 0;
  }
}

void ChatClient::read_signals() {
  for (;;) {
    signalfd_siginfo info{};
    const ssize_t got = ::read(signals_.get(), &info, sizeof info);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        signals_readable_ = false;
        return;
      }
      throw_errno("cannot read from the signalfd");
    }
    if (static_cast<std::size_t>(got) != sizeof info) continue;
    if (info.ssi_signo == SIGCHLD) {
      (void)input_.reap(false);
    } else if (leaving_by_signal_) {
      // Asked twice: leave now, even if the server has not taken everything yet.
      end_ = SessionEnd::user_left;
      return;
    } else {
      // SIGINT, SIGTERM, SIGHUP: leave cleanly. The child stops; whole lines it had
      // already written are still read and sent, then writing is shut down as after EOF.
      leaving_by_signal_ = true;
      input_.stop();
      leave_by(Clock::now() + kLingerTime);
    }
  }
}

void ChatClient::shut_down_writing_when_done() {
  if (!input_closed_ || pending_output() > 0 || write_shut_down_ || connection_lost_) return;
  // Our FIN tells the server we are done; it answers by closing, which ends the session.
  // ENOTCONN (the peer reset meanwhile) is found by the next recv().
  (void)::shutdown(socket_.get(), SHUT_WR);
  write_shut_down_ = true;
  leave_by(Clock::now() + kLingerTime);
}

void ChatClient::leave_by(Clock::time_point deadline) {
  if (!deadline_ || deadline < *deadline_) deadline_ = deadline;
}

}  // namespace epollchat::client
