#include "client/chat_client.hpp"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <system_error>
#include <utility>

namespace epollchat::client {
namespace {

constexpr std::uint64_t kSocketTag = 1;
constexpr std::uint64_t kInputTag = 2;
constexpr std::uint64_t kSignalTag = 3;

constexpr std::size_t kReadChunk = 64U << 10;
// At most this many reads from one fd per loop turn, so a flood from the server cannot
// keep typed lines from leaving, nor a long paste keep server lines from showing.
constexpr int kChunksPerTurn = 16;

constexpr std::string_view kClosedByServer = "*** Connection closed by server.";

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

// "/quit" with a reason: the server says goodbye for us and closes, which is our leaving,
// not its doing. A bare "/quit" never gets here: the keyboard child ends the input on it.
bool is_quit_with_reason(std::string_view line) {
  return line.starts_with("/quit ") || line.starts_with("/quit\t");
}

std::string seconds_text(std::chrono::milliseconds delay) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(delay.count()) / 1000.0);
  return text;
}

}  // namespace

struct ChatClient::ServerLines {
  ChatClient& client;
  void on_line(std::string_view line) { client.on_server_line(line); }
  void on_line_too_long() noexcept { note_dropped_line("from the server"); }
};

struct ChatClient::TypedLines {
  ChatClient& client;
  void on_line(std::string_view line) { client.on_typed_line(line); }
  void on_line_too_long() noexcept { note_dropped_line("of input"); }
};

ChatClient::ChatClient(ServerAddress server, ServerStream stream, const TlsContext* tls,
                       StdinReader& input, Display& display, const sigset_t& signals,
                       bool reconnect)
    : server_(std::move(server)),
      tls_(tls),
      input_(input),
      display_(display),
      read_buffer_(kReadChunk),
      reconnect_(reconnect) {
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw_errno("epoll_create1");
  signals_ = UniqueFd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals_) throw_errno("signalfd");
  watch(epoll_.get(), input_.fd(), EPOLLIN, kInputTag);
  watch(epoll_.get(), signals_.get(), EPOLLIN, kSignalTag);
  adopt(std::move(stream));
}

void ChatClient::adopt(ServerStream stream) {
  stream_ = std::move(stream);
  // Edge-triggered EPOLLOUT is reported only when the socket turns writable again after
  // a send() hit EAGAIN, so it can stay registered for the whole connection.
  watch(epoll_.get(), stream_.fd(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, kSocketTag);
  from_server_ = LineCodec(kMaxLine);
  output_.clear();
  sent_ = 0;
  socket_readable_ = true;
  socket_writable_ = true;
  connection_lost_ = false;
}

SessionEnd ChatClient::run() {
  display_.set_prompt(whereabouts_.prompt());
  while (!end_) {
    do_ready_work();
    display_.flush();
    if (end_) break;
    if (deadline_ && Clock::now() >= *deadline_) {
      end_ = SessionEnd::user_left;
      break;
    }
    if (reconnect_at_ && Clock::now() >= *reconnect_at_) {
      try_to_reconnect();
      display_.flush();
      continue;
    }
    wait_for_events();
  }
  display_.flush();
  input_.stop();
  return *end_;
}

bool ChatClient::has_ready_work() const noexcept {
  return signals_readable_ || (is_connected() && socket_readable_) ||
         (input_readable_ && !input_closed_ && pending_output() < kHighWater) ||
         (is_connected() && socket_writable_ && pending_output() > 0 && !connection_lost_);
}

std::optional<ChatClient::Clock::time_point> ChatClient::next_wakeup() const noexcept {
  if (deadline_ && reconnect_at_) return std::min(*deadline_, *reconnect_at_);
  return deadline_ ? deadline_ : reconnect_at_;
}

void ChatClient::do_ready_work() {
  if (signals_readable_) read_signals();
  if (end_) return;
  if (is_connected() && socket_readable_) read_server();
  if (end_) return;
  forward_input();
  shut_down_writing_when_done();
}

void ChatClient::wait_for_events() {
  int timeout = -1;
  if (has_ready_work()) {
    timeout = 0;
  } else if (const auto wakeup = next_wakeup()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*wakeup - Clock::now()).count();
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
    const StreamOutcome got = stream_.receive(read_buffer_);
    if (got.result == StreamResult::done) {
      ServerLines sink{*this};
      from_server_.feed(std::string_view(read_buffer_.data(), got.bytes), sink);
      continue;
    }
    if (got.result == StreamResult::closed) {
      on_connection_lost();
      return;
    }
    if (got.result == StreamResult::would_block) {
      socket_readable_ = false;
      // After send() saw the connection gone, nothing more will arrive.
      if (connection_lost_) on_connection_lost();
      return;
    }
    display_.flush();
    throw std::system_error(got.error, std::generic_category(), "cannot read from the server");
  }
}

void ChatClient::on_server_line(std::string_view line) {
  const ServerReply reply = whereabouts_.note_server_line(line);
  display_.add_server_line(line);
  switch (reply) {
    case ServerReply::welcome:
      if (restore_answers_due_) {
        int due = 0;
        if (!wanted_nickname_.empty()) {
          output_ += "/nick " + wanted_nickname_ + "\n";
          ++due;
        }
        if (wanted_room_ != Whereabouts::kFirstRoom) {
          output_ += "/join " + wanted_room_ + "\n";
          ++due;
        }
        restore_answers_due_ = due;
        if (due == 0) finish_restoring();
      }
      display_.set_prompt(whereabouts_.prompt());
      break;
    case ServerReply::nickname_settled:
    case ServerReply::room_settled:
      display_.set_prompt(whereabouts_.prompt());
      if (restore_answers_due_ && --*restore_answers_due_ <= 0) finish_restoring();
      break;
    case ServerReply::who:
      display_.set_completions(whereabouts_.who_nicknames());
      break;
    case ServerReply::other:
      break;
  }
}

void ChatClient::finish_restoring() {
  restore_answers_due_.reset();
  display_.add_notice("*** Reconnected as " + whereabouts_.name() + " in " + whereabouts_.room() +
                      ".");
  for (const std::string& line : held_lines_) on_typed_line(line);
  held_lines_.clear();
  told_lines_held_ = false;
}

void ChatClient::on_typed_line(std::string_view line) {
  const bool quits = is_quit_with_reason(line);
  if (is_connected() && !restore_answers_due_) {
    output_.append(line);
    output_.push_back('\n');
    if (quits) {
      quit_sent_ = true;
      leave_by(Clock::now() + kLingerTime);
    }
    return;
  }
  if (quits) {
    // Leaving while there is no server to tell: nothing to wait for.
    end_ = SessionEnd::user_left;
    return;
  }
  if (held_lines_.size() >= kMaxHeldLines) {
    display_.add_notice("*** Not connected and " + std::to_string(kMaxHeldLines) +
                        " lines are waiting; this one was dropped.");
    return;
  }
  if (!told_lines_held_) {
    display_.add_notice(
        "*** Not connected; lines typed now are sent after the reconnect (at most " +
        std::to_string(kMaxHeldLines) + ").");
    told_lines_held_ = true;
  }
  held_lines_.emplace_back(line);
}

void ChatClient::on_connection_lost() {
  // A last line without LF is still shown.
  ServerLines sink{*this};
  from_server_.feed("\n", sink);
  if (write_shut_down_ || quit_sent_) {
    // Our own FIN or /quit came first: this is the server answering it.
    end_ = SessionEnd::user_left;
    return;
  }
  if (!reconnect_ || leaving_by_signal_) {
    end_by_server();
    return;
  }
  // During a restore the whereabouts already say "Client #N in lobby": keep the old wish.
  if (!restore_answers_due_) {
    wanted_nickname_ = whereabouts_.has_nickname() ? whereabouts_.name() : std::string();
    wanted_room_ = whereabouts_.room();
  }
  stream_.close();
  output_.clear();
  sent_ = 0;
  wait_to_reconnect("Connection lost");
}

void ChatClient::wait_to_reconnect(std::string_view why) {
  const std::chrono::milliseconds delay = backoff_.next_delay();
  display_.add_notice("*** " + std::string(why) + "; reconnecting in " + seconds_text(delay) +
                      " s.");
  reconnect_at_ = Clock::now() + delay;
}

void ChatClient::try_to_reconnect() {
  reconnect_at_.reset();
  ServerStream stream;
  try {
    stream = ServerStream::open(server_, tls_, kConnectTimeout);
  } catch (const ConnectError&) {
    // Refused, unreachable or too slow: all mean "not yet", and are said the same way.
    wait_to_reconnect("Still no connection");
    return;
  }
  adopt(std::move(stream));
  backoff_.reset();
  // Counted once the welcome arrives; until then typed lines are held too.
  restore_answers_due_ = 0;
}

void ChatClient::end_by_server() {
  display_.add_notice(kClosedByServer);
  end_ = SessionEnd::server_closed;
}

void ChatClient::forward_input() {
  const auto can_send = [this] {
    return is_connected() && socket_writable_ && pending_output() > 0 && !connection_lost_;
  };
  for (int turn = 0; turn < kChunksPerTurn && !end_; ++turn) {
    if (can_send()) send_output();
    if (!input_readable_ || input_closed_ || pending_output() >= kHighWater) break;
    read_input_chunk();
  }
  if (can_send()) send_output();
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
    const StreamOutcome sent = stream_.send(std::string_view(output_).substr(sent_));
    if (sent.result == StreamResult::done) {
      sent_ += sent.bytes;
      continue;
    }
    if (sent.result == StreamResult::would_block) {
      socket_writable_ = false;
      break;
    }
    if (sent.result == StreamResult::closed) {
      // The server is gone; what it already sent may still be readable.
      connection_lost_ = true;
      socket_readable_ = true;
      output_.clear();
      sent_ = 0;
      return;
    }
    throw std::system_error(sent.error, std::generic_category(), "cannot send to the server");
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
    } else if (leaving_by_signal_ || !is_connected()) {
      // Asked twice, or while waiting to reconnect (Ctrl-C gives up): leave now.
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
  if (!input_closed_ || end_) return;
  if (!is_connected()) {
    // The input ended while waiting to reconnect: there is nobody to say goodbye to.
    end_ = SessionEnd::user_left;
    return;
  }
  if (pending_output() > 0 || write_shut_down_ || connection_lost_) return;
  // Lines held for a reconnect still in progress go first.
  if (restore_answers_due_) return;
  // Our FIN tells the server we are done; it answers by closing, which ends the session.
  stream_.shut_down_writing();
  write_shut_down_ = true;
  leave_by(Clock::now() + kLingerTime);
}

void ChatClient::leave_by(Clock::time_point deadline) {
  if (!deadline_ || deadline < *deadline_) deadline_ = deadline;
}

}  // namespace epollchat::client
