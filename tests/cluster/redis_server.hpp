// RedisServer: a private redis-server for one test, on a loopback port or a unix socket.
//
// Owns: the redis-server process (continued if paused, stopped with SIGTERM and reaped by the
// destructor), a TempDir that is its working directory (--dir) and holds its unix socket, and
// the capture of its log. Persistence is off (--save '' --appendonly no): every start is an
// empty database. The binary comes from $REDIS_SERVER, which meson sets from
// find_program('redis-server').
// Never: sleeps. Readiness is redis's own "ready to accept connections" log line, confirmed by
// a connection answering PING with +PONG; every wait is bounded by a deadline.
// Lifetime: the address (port or socket path) is chosen once, by the constructor, and stays
// the same across stop() and start(), so daemons started with --redis ADDR find it again.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"
#include "support/deadline.hpp"
#include "support/output_capture.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {

enum class RedisTransport { tcp, unix_socket };

struct RedisOptions {
  RedisTransport transport = RedisTransport::tcp;
  // False: choose the address but serve nothing there until start() (for "Redis unreachable
  // at start"). The port is one that was free when chosen.
  bool start = true;
  // Not empty: redis requires this password (--requirepass); the readiness check sends AUTH.
  std::string password{};
  // Appended to redis-server's command line (e.g. "--user", "NAME", "on", ... for an ACL).
  std::vector<std::string> extra_args{};
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(15)};
};

class RedisServer {
 public:
  explicit RedisServer(RedisOptions options = {});  // throws, with redis's log, if not ready
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  // Stops redis if it runs (SIGCONT first if paused, then SIGTERM; SIGKILL after 10 s), and
  // prints its log if the current test failed.
  ~RedisServer();

  // The value for epollchatd's --redis: "127.0.0.1:PORT" or the socket's absolute path.
  [[nodiscard]] std::string address() const;
  // The TCP port; 0 with a unix socket.
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // The unix socket's path; empty with TCP.
  [[nodiscard]] const std::filesystem::path& socket_path() const { return socket_path_; }

  [[nodiscard]] bool is_running() const;
  [[nodiscard]] bool is_paused() const { return paused_; }
  [[nodiscard]] pid_t pid() const;

  // Starts redis on the address (again, after stop()) and waits until it answers PING.
  // Throws std::runtime_error with redis's log if it exits or is not ready in time.
  void start();
  // SIGTERM, then waits for the exit. Throws if redis is still there after 10 s.
  void stop();
  // SIGSTOP / SIGCONT: a stuck Redis that holds its connections open and answers nothing.
  void pause();
  void resume();

  // Connects afresh and sends PING; true if +PONG comes back within `timeout`.
  [[nodiscard]] bool ping(std::chrono::milliseconds timeout) const;
  // Connects afresh (logging in with the password, if redis has one), sends one command in
  // RESP and returns the first line of its reply without CRLF (":2", "+OK", "-NOPERM ..."),
  // or "" if none came within `timeout`. For commands whose reply is one line.
  [[nodiscard]] std::string command(const std::vector<std::string>& arguments,
                                    std::chrono::milliseconds timeout) const;
  // The same for a command whose reply is `lines` lines (e.g. 4 for PUBSUB NUMSUB of one
  // channel: "*2", "$N", the channel, ":K"); empty if they did not all come in time.
  [[nodiscard]] std::vector<std::string> command_lines(const std::vector<std::string>& arguments,
                                                       std::size_t lines,
                                                       std::chrono::milliseconds timeout) const;
  // Connects afresh (logging in like command()) and subscribes to `channel`; returns the
  // connection once redis confirmed, or an empty fd. The channel's messages follow on it as
  // RESP arrays ("*3\r\n$7\r\nmessage\r\n...").
  [[nodiscard]] UniqueFd subscribe(std::string_view channel,
                                   std::chrono::milliseconds timeout) const;

  // Everything redis has logged, over all its runs so far.
  [[nodiscard]] std::string log() const;

 private:
  // One attempt to start; false if the port was taken meanwhile (only then).
  bool try_start();
  // A fresh connection to the address, or an empty fd if none could be made in time.
  [[nodiscard]] UniqueFd connect_fresh(const Deadline& deadline) const;
  // Connects `fd` afresh, logs in if redis has a password, sends one command and reads
  // `lines` reply lines (without CRLF). Empty if they did not all come in time; only the
  // refusal if the password was refused.
  std::vector<std::string> exchange_fresh(UniqueFd& fd, const std::vector<std::string>& arguments,
                                          std::size_t lines, const Deadline& deadline) const;

  RedisOptions options_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::filesystem::path socket_path_;
  std::string previous_runs_log_;
  std::unique_ptr<OutputCapture> output_;
  std::unique_ptr<ChildProcess> child_;
  bool paused_ = false;
};

// Reads a connection that subscribe() returned until what arrived on it during this call
// satisfies `enough` (e.g. holds a given payload); returns all of it, or nullopt if that did
// not come before `deadline` or redis closed.
std::optional<std::string> read_subscription(
    int subscription, const std::function<bool(std::string_view received)>& enough,
    const Deadline& deadline);

// The redis-server binary: $REDIS_SERVER if set, else /usr/bin/redis-server.
std::string redis_server_path();

}  // namespace epollchat::test
