// ChatHarness: a chat Server in this process, on its own EventLoop, with clients made from
// socketpairs (the test holds one end of each; the server is handed the other as if it had
// accepted it) and, if asked for, a FakeLink to the other nodes. No daemon, no Redis.
//
// Owns: the loop, a log that writes nothing, the server, and the test's ends of the clients.
// Never: sleeps to let something happen. Every wait runs the loop until the awaited signal
// shows (bytes on a client's socket, its end closed, a condition on the server), and
// kGuard is only a guard against a hang: a wait that reaches it is a failure.
// Lifetime: one per test; the clients' ends are closed before the server is destroyed, and
// the server (which owns the FakeLink) before the loop.
//
// The server and the clients share one thread, so bytes reach a client only while the loop
// runs: a client's wait runs turns of the loop, each of which blocks in epoll_wait only until
// the server has something to do.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/node_link.hpp"
#include "chat/saved_state.hpp"
#include "chat/server.hpp"
#include "chat/server_limits.hpp"
#include "chat/session.hpp"
#include "core/event_loop.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "unit/chat/fake_link.hpp"
#include "unit/unit_helpers.hpp"

namespace epollchat::test {

// Runs turns of `loop` until `done()` holds; false if the guard time passed first. The first
// turn does not wait: the test calls the server between turns (a connection handed over, a
// message from the link, the shutdown), and the work that queues for the end of "this turn"
// is done by the next one, which would otherwise wait for an event first. Every later turn
// waits for the server's next event or timer, no longer than what is left of the guard.
inline bool run_loop_until(EventLoop& loop, const std::function<bool()>& done,
                           std::chrono::milliseconds guard = kGuard) {
  const auto deadline = std::chrono::steady_clock::now() + guard;
  for (bool first = true; !done(); first = false) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    loop.run_once(first ? 0 : static_cast<int>(left.count()));
  }
  return true;
}

// The test's end of one client connection.
class ClientEnd {
 public:
  // A command the server answers with one line, in order with everything else it sends the
  // client: once the answer is in, everything queued for the client before it is in too.
  static constexpr std::string_view kSyncCommand = "/ping";
  static constexpr std::string_view kSyncReply = "*** Unknown command /ping; try /help.";
  static constexpr std::string_view kNoLine = "<no line>";

  // `id` is the server's session id for it, 0 if the server refused it.
  ClientEnd(EventLoop& loop, UniqueFd end, std::uint64_t id)
      : loop_(loop), end_(std::move(end)), id_(id) {}
  ClientEnd(const ClientEnd&) = delete;
  ClientEnd& operator=(const ClientEnd&) = delete;

  [[nodiscard]] int fd() const noexcept { return end_.get(); }
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }

  // Writes all of `bytes`, running the loop while the socket is full so that the server
  // makes room by reading.
  void send(std::string_view bytes) {
    const bool sent = run_loop_until(loop_, [&] {
      bytes.remove_prefix(write_some(end_.get(), bytes));
      return bytes.empty();
    });
    if (!sent) ADD_FAILURE() << bytes.size() << " bytes not taken within the guard time";
  }
  void send_line(std::string_view line) { send(std::string(line) + "\n"); }

  // The next whole line (without its LF), running the loop until it arrives. On failure
  // (the guard time passed, or the server closed first) it records one and returns kNoLine.
  std::string next_line() {
    const bool arrived = run_loop_until(loop_, [this] {
      receive();
      return has_whole_line() || closed_;
    });
    if (has_whole_line()) return pop_line();
    ADD_FAILURE() << (arrived ? "the server closed the connection before a whole line came"
                              : "no whole line within the guard time");
    return std::string(kNoLine);
  }
  std::vector<std::string> next_lines(std::size_t count) {
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < count; ++i) lines.push_back(next_line());
    return lines;
  }

  // The whole lines that arrived already, without running the loop.
  std::vector<std::string> lines_so_far() {
    receive();
    std::vector<std::string> lines;
    while (has_whole_line()) lines.push_back(pop_line());
    return lines;
  }

  // Sends kSyncCommand and returns every line that arrives before its answer: all the
  // server queued for this client before it read the command.
  std::vector<std::string> sync() {
    send_line(kSyncCommand);
    std::vector<std::string> before;
    for (;;) {
      std::string line = next_line();
      if (line == kSyncReply || line == kNoLine) return before;
      before.push_back(std::move(line));
    }
  }

  // Runs the loop until the server closed the connection (EOF or reset); false if it did
  // not within the guard time. Lines that came before stay readable (lines_so_far()).
  bool wait_closed() {
    return run_loop_until(loop_, [this] {
      receive();
      return closed_;
    });
  }
  [[nodiscard]] bool is_closed() const noexcept { return closed_; }
  // The same for a client that has stopped reading, and must not make room for the server
  // by reading now: waits for the hang-up (POLLHUP) and leaves what was sent unread.
  bool wait_closed_unread() {
    return run_loop_until(loop_, [this] {
      pollfd hang_up{end_.get(), POLLRDHUP, 0};
      return poll(&hang_up, 1, 0) == 1 && (hang_up.revents & POLLHUP) != 0;
    });
  }

  // The client hangs up.
  void close() { end_.reset(); }
  // The client finishes sending (EOF to the server) but still reads.
  void finish_sending() { (void)shutdown(end_.get(), SHUT_WR); }

 private:
  // Takes what the socket holds now; notes EOF or a reset.
  void receive() {
    if (!end_ || closed_) return;
    char buffer[65536];
    for (;;) {
      const ssize_t n = recv(end_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        received_.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      closed_ = true;  // EOF, or a reset (a cut-off client's socket is reset)
      return;
    }
  }
  [[nodiscard]] bool has_whole_line() const {
    return received_.find('\n', taken_) != std::string::npos;
  }
  std::string pop_line() {
    const std::size_t end = received_.find('\n', taken_);
    std::string line = received_.substr(taken_, end - taken_);
    taken_ = end + 1;
    if (taken_ == received_.size()) {
      received_.clear();
      taken_ = 0;
    }
    return line;
  }

  EventLoop& loop_;
  UniqueFd end_;
  std::uint64_t id_;
  std::string received_;
  std::size_t taken_ = 0;  // received_[0, taken_) was handed out
  bool closed_ = false;
};

class ChatHarness {
 public:
  struct WithLink {};

  explicit ChatHarness(const chat::ServerLimits& limits = {})
      : server_(std::make_unique<chat::Server>(loop_, log_, limits)) {}
  // The server linked to other nodes through a FakeLink (connecting until told otherwise).
  ChatHarness(const chat::ServerLimits& limits, WithLink /*with_link*/) : ChatHarness(limits) {
    server_->link_to_other_nodes([this](chat::NodeLinkHandler& handler) {
      auto link = std::make_unique<FakeLink>(handler);
      link_ = link.get();
      return link;
    });
    server_->start_link();
  }
  ~ChatHarness() { clients_.clear(); }
  ChatHarness(const ChatHarness&) = delete;
  ChatHarness& operator=(const ChatHarness&) = delete;

  [[nodiscard]] EventLoop& loop() noexcept { return loop_; }
  [[nodiscard]] chat::Server& server() noexcept { return *server_; }
  // Only with WithLink.
  [[nodiscard]] FakeLink& link() noexcept { return *link_; }

  // A new client, handed to the server as if accepted. `send_buffer`, if not zero, is the
  // size asked for the server's end's send buffer: a small one makes a client that does not
  // read congested soon (the kernel doubles it and keeps a minimum).
  ClientEnd& connect(int send_buffer = 0) {
    SocketPair pair = make_socketpair();
    if (send_buffer != 0) set_buffer_size(pair.local.get(), SO_SNDBUF, send_buffer);
    const std::uint64_t newest_before = newest_session();
    server_->on_accepted(std::move(pair.local));
    const std::uint64_t newest = newest_session();
    clients_.push_back(std::make_unique<ClientEnd>(loop_, std::move(pair.peer),
                                                   newest != newest_before ? newest : 0));
    return *clients_.back();
  }

  // `count` clients connected one after another, each of which has then read everything
  // it was sent so far (its welcome, the others' arrivals).
  std::vector<ClientEnd*> connect_settled(std::size_t count) {
    std::vector<ClientEnd*> connected;
    for (std::size_t i = 0; i < count; ++i) connected.push_back(&connect());
    for (ClientEnd* client : connected) (void)client->sync();
    return connected;
  }

  // The client's session; null once the server destroyed it.
  [[nodiscard]] chat::Session* session_of(const ClientEnd& client) {
    return client.id() == 0 ? nullptr : server_->find_session(client.id());
  }

  // A planned restart as the daemon makes it: the sessions saved (through the state's
  // format), every client socket kept (duplicated, as the service manager's store keeps
  // it), the server destroyed, and a fresh one restoring them. `lost` clients' sockets are
  // not kept (they hung up meanwhile). Returns how many sessions were restored.
  std::size_t restart_server(const std::vector<std::uint64_t>& lost = {},
                             const chat::ServerLimits& limits = {}) {
    const std::string saved = chat::encode_saved_state(server_->save_sessions());
    std::map<std::uint64_t, UniqueFd> kept;
    for (const auto& [id, session] : server_->sessions()) {
      if (std::find(lost.begin(), lost.end(), id) != lost.end()) continue;
      kept.emplace(id, UniqueFd(fcntl(session->connection().fd(), F_DUPFD_CLOEXEC, 0)));
    }
    server_.reset();
    server_ = std::make_unique<chat::Server>(loop_, log_, limits);
    const chat::SavedState state =
        chat::decode_saved_state(saved, chat::Server::restorable_limits(limits));
    return server_->restore_sessions(state, [&kept](std::uint64_t id) {
      const auto found = kept.find(id);
      return found == kept.end() ? UniqueFd() : std::move(found->second);
    });
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds guard = kGuard) {
    return run_loop_until(loop_, done, guard);
  }

 private:
  [[nodiscard]] std::uint64_t newest_session() const {
    std::uint64_t newest = 0;
    for (const auto& [id, session] : server_->sessions()) newest = std::max(newest, id);
    return newest;
  }

  EventLoop loop_;
  // Nothing the server logs is as grave as emerg: this log writes nothing.
  Log log_{LogLevel::emerg};
  std::unique_ptr<chat::Server> server_;
  FakeLink* link_ = nullptr;
  std::vector<std::unique_ptr<ClientEnd>> clients_;
};

}  // namespace epollchat::test
