// ChatClient: the parent's event loop, between the server and the typist.
//
// One epoll instance watches three fds, all edge-triggered: the server socket, the pipe
// from the StdinReader child and a signalfd. An edge is remembered as a readiness flag
// that stays set until the fd reports EAGAIN, so work cut short by a per-turn budget or
// by backpressure resumes without a new edge.
//  - Server -> user: received bytes are split into lines by LineCodec (LF or NUL, so the
//    tutorial server's NUL padding disappears), read for where the server says we are
//    (Whereabouts: the prompt, the nicknames for Tab) and handed to the Display, which
//    makes them safe to show. Standard output stays blocking: it usually shares its open
//    file description with the terminal the child reads, and O_NONBLOCK there would turn
//    the child's read() into a busy loop.
//  - Typist -> server: complete lines from the pipe are queued and sent through the
//    ServerStream; what the socket does not take waits for the next EPOLLOUT. Above
//    kHighWater bytes queued, the pipe is not read at all, so the child blocks and nothing
//    typed is lost or held twice.
//  - Reconnect (when enabled): a connection the server or the network ends is announced,
//    retried with ReconnectBackoff, and on success the nickname and room are asked for
//    again (/nick, /join) before the lines typed meanwhile (at most kMaxHeldLines) go out.
//  - The end: see SessionEnd.
//
// Owns: the ServerStream, the epoll fd, the signalfd and the two codecs. Borrows the
// StdinReader (stops it when the session ends) and the Display. Never exits the process;
// notes a dropped over-long line on stderr. Unexpected errors are thrown as
// std::system_error for main.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/display.hpp"
#include "client/reconnect_backoff.hpp"
#include "client/server_address.hpp"
#include "client/server_stream.hpp"
#include "client/stdin_reader.hpp"
#include "client/whereabouts.hpp"
#include "core/line_codec.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::client {

enum class SessionEnd {
  // The input ended (EOF, `exit`, `/quit`, `/quit REASON`) or a signal asked us to leave:
  // everything typed was sent, the socket was shut down for writing and the server's last
  // lines were shown until it closed or kLingerTime passed.
  user_left,
  // The server closed or reset the connection first and reconnecting is off;
  // "*** Connection closed by server." has been printed after its last lines.
  server_closed,
};

class ChatClient {
 public:
  // Takes the stream connected to `server` (encrypted with `tls` if not null; a reconnect
  // encrypts the same way). `signals` must already be blocked; SIGINT, SIGTERM and SIGHUP
  // end the session, SIGCHLD reaps the child. Throws std::system_error if epoll or
  // signalfd cannot be set up.
  ChatClient(ServerAddress server, ServerStream stream, const TlsContext* tls, StdinReader& input,
             Display& display, const sigset_t& signals, bool reconnect);

  // Runs the session to its end. Throws std::system_error on an unexpected error
  // (an unknown errno from the socket, standard output failing).
  SessionEnd run();

  // How long the end of a session may take once it has begun: flushing after a signal,
  // and waiting for the server to close after our shutdown(SHUT_WR) or /quit.
  static constexpr std::chrono::milliseconds kLingerTime{2000};
  // Lines longer than this, in either direction, are dropped with a note on stderr.
  static constexpr std::size_t kMaxLine = 1U << 20;
  // Stop reading the pipe while this much is waiting for the socket.
  static constexpr std::size_t kHighWater = 256U << 10;
  // Lines typed while disconnected that are kept to be sent after the reconnect.
  static constexpr std::size_t kMaxHeldLines = 100;
  // How long one reconnect attempt may take before it counts as failed.
  static constexpr std::chrono::milliseconds kConnectTimeout{5000};

 private:
  struct ServerLines;  // LineCodec sinks.
  struct TypedLines;
  using Clock = std::chrono::steady_clock;

  [[nodiscard]] bool is_connected() const noexcept { return stream_.is_open(); }
  [[nodiscard]] bool has_ready_work() const noexcept;
  [[nodiscard]] std::size_t pending_output() const noexcept { return output_.size() - sent_; }
  [[nodiscard]] std::optional<Clock::time_point> next_wakeup() const noexcept;
  void do_ready_work();
  void wait_for_events();

  void adopt(ServerStream stream);
  void read_server();
  void on_server_line(std::string_view line);
  void on_typed_line(std::string_view line);
  void on_connection_lost();
  void try_to_reconnect();
  void wait_to_reconnect(std::string_view why);
  void finish_restoring();
  void end_by_server();
  void forward_input();
  void read_input_chunk();
  void send_output();
  void read_signals();
  void shut_down_writing_when_done();
  void leave_by(Clock::time_point deadline);

  ServerAddress server_;
  ServerStream stream_;
  const TlsContext* tls_;
  UniqueFd epoll_;
  UniqueFd signals_;
  StdinReader& input_;
  Display& display_;

  LineCodec from_server_{kMaxLine};
  LineCodec from_input_{kMaxLine};
  std::vector<char> read_buffer_;
  std::string output_;  // Bytes for the server; the first sent_ of them are gone.
  std::size_t sent_ = 0;

  Whereabouts whereabouts_;
  bool reconnect_;
  ReconnectBackoff backoff_;
  std::optional<Clock::time_point> reconnect_at_;
  // After a reconnect: the answers to /nick and /join still awaited before the held lines
  // may go; nullopt when not restoring.
  std::optional<int> restore_answers_due_;
  std::string wanted_nickname_;  // Empty: none to restore.
  std::string wanted_room_;
  std::vector<std::string> held_lines_;
  bool told_lines_held_ = false;

  bool socket_readable_ = true;
  bool socket_writable_ = true;
  bool input_readable_ = true;
  bool signals_readable_ = true;
  bool input_closed_ = false;     // The pipe reported EOF: the child is done.
  bool write_shut_down_ = false;  // We sent our FIN.
  bool quit_sent_ = false;        // We sent "/quit REASON": the server's close is expected.
  bool connection_lost_ = false;  // send() said the connection is gone.
  bool leaving_by_signal_ = false;
  std::optional<Clock::time_point> deadline_;
  std::optional<SessionEnd> end_;
};

}  // namespace epollchat::client
