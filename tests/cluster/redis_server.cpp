#include "cluster/redis_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "core/unique_fd.hpp"
#include "support/deadline.hpp"
#include "support/loopback.hpp"

namespace epollchat::test {
namespace {

// A port chosen a moment ago can be taken by another test before redis binds it; a first
// start retries with a fresh port this many times.
constexpr int kStartAttempts = 5;
constexpr std::chrono::seconds kStopTimeout{10};

std::runtime_error start_failure(const std::string& what, const std::string& log) {
  return std::runtime_error("redis-server " + what + "; its log:\n" + log);
}

// Connects a non-blocking socket to `address`, waiting for the handshake up to the deadline.
UniqueFd connect_within(const sockaddr* address, socklen_t length, const Deadline& deadline) {
  UniqueFd fd(::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
  if (::connect(fd.get(), address, length) == 0) return fd;
  // A unix socket whose listen backlog is full says EAGAIN; nothing to wait for then.
  if (errno != EINPROGRESS) return {};
  pollfd entry{fd.get(), POLLOUT, 0};
  int ready;
  do {
    ready = ::poll(&entry, 1, deadline.poll_timeout());
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return {};
  int error = 0;
  socklen_t error_length = sizeof error;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_length) != 0 || error != 0) {
    return {};
  }
  return fd;
}

// One command in RESP (not inline: an argument may hold spaces or newlines).
std::string resp_command(const std::vector<std::string>& arguments) {
  std::string request = "*" + std::to_string(arguments.size()) + "\r\n";
  for (const std::string& argument : arguments) {
    request += "$" + std::to_string(argument.size()) + "\r\n" + argument + "\r\n";
  }
  return request;
}

// Sends `request` on a connected socket and reads `lines` CRLF-terminated reply lines, up to
// the deadline. Returns them without CRLF, or fewer if redis closed or the deadline passed.
std::vector<std::string> exchange(int fd, const std::string& request, std::size_t lines,
                                  const Deadline& deadline) {
  std::vector<std::string> replies;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return replies;
  }
  std::string received;
  while (replies.size() < lines) {
    if (const auto end = received.find("\r\n"); end != std::string::npos) {
      replies.push_back(received.substr(0, end));
      received.erase(0, end + 2);
      continue;
    }
    pollfd entry{fd, POLLIN, 0};
    const int ready = ::poll(&entry, 1, deadline.poll_timeout());
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    std::array<char, 256> buffer;
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;
    received.append(buffer.data(), static_cast<std::size_t>(got));
  }
  return replies;
}

}  // namespace

std::string redis_server_path() {
  const char* path = std::getenv("REDIS_SERVER");
  return path != nullptr && *path != '\0' ? path : "/usr/bin/redis-server";
}

RedisServer::RedisServer(RedisOptions options) : options_(options) {
  if (options_.transport == RedisTransport::unix_socket) {
    socket_path_ = dir_.path() / "redis.sock";
    if (socket_path_.string().size() >= sizeof(sockaddr_un::sun_path)) {
      throw std::runtime_error("unix socket path too long: " + socket_path_.string());
    }
    if (options_.start) start();
    return;
  }
  port_ = pick_unused_port();
  if (!options_.start) return;
  for (int attempt = 1; !try_start(); ++attempt) {
    if (attempt == kStartAttempts) {
      throw start_failure("found its port taken " + std::to_string(attempt) + " times", log());
    }
    port_ = pick_unused_port();
  }
}

RedisServer::~RedisServer() {
  if (is_running()) {
    try {
      if (paused_) resume();
      child_->send_signal(SIGTERM);
      child_->wait_exit(kStopTimeout);
    } catch (const std::exception&) {
      // Already gone; the ChildProcess destructor reaps (or kills) it either way.
    }
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- redis-server log (" << address() << ") ----\n"
              << log() << "---- end of redis-server log ----\n";
  }
}

std::string RedisServer::address() const {
  if (options_.transport == RedisTransport::unix_socket) return socket_path_.string();
  return "127.0.0.1:" + std::to_string(port_);
}

bool RedisServer::is_running() const { return child_ != nullptr && !child_->has_exited(); }

pid_t RedisServer::pid() const {
  if (child_ == nullptr) throw std::logic_error("RedisServer::pid: never started");
  return child_->pid();
}

void RedisServer::start() {
  if (!try_start()) {
    throw start_failure("could not bind " + address() + " again (taken by someone else)", log());
  }
}

bool RedisServer::try_start() {
  if (is_running()) throw std::logic_error("RedisServer::start: already running");
  if (output_ != nullptr) previous_runs_log_ += output_->text();
  child_.reset();
  paused_ = false;

  SpawnSpec spec;
  spec.argv = {
      redis_server_path(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
      dir_.path().string()};
  if (!options_.password.empty()) {
    spec.argv.insert(spec.argv.end(), {"--requirepass", options_.password});
  }
  spec.argv.insert(spec.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::string ready_marker;
  if (options_.transport == RedisTransport::unix_socket) {
    spec.argv.insert(spec.argv.end(), {"--port", "0", "--unixsocket", socket_path_.string(),
                                       "--unixsocketperm", "700"});
    ready_marker = "ready to accept connections at " + socket_path_.string();
  } else {
    spec.argv.insert(spec.argv.end(), {"--port", std::to_string(port_)});
    ready_marker = "Ready to accept connections";
  }
  spec.env = clean_environment();
  output_ = std::make_unique<OutputCapture>();
  spec.stdout_fd = output_->write_fd();
  spec.stderr_fd = output_->write_fd();
  child_ = std::make_unique<ChildProcess>(ChildProcess::spawn(spec));
  output_->close_write_end();

  const Deadline deadline(options_.ready_timeout);
  if (!output_->wait_for(ready_marker, deadline.remaining())) {
    if (child_->has_exited()) {
      const auto status = child_->wait_exit(std::chrono::seconds(1));
      output_->wait_for_eof(std::chrono::seconds(2));
      const std::string text = output_->text();
      if (text.find("Address already in use") != std::string::npos) return false;
      throw start_failure(status ? status->describe() + " before it was ready" : "exited", log());
    }
    throw start_failure("logged no '" + ready_marker + "' within " +
                            std::to_string(options_.ready_timeout.count()) + " ms",
                        log());
  }
  if (!ping(deadline.remaining())) {
    throw start_failure("said it was ready but did not answer PING", log());
  }
  return true;
}

void RedisServer::stop() {
  if (!is_running()) throw std::logic_error("RedisServer::stop: not running");
  if (paused_) resume();
  child_->send_signal(SIGTERM);
  if (!child_->wait_exit(kStopTimeout)) {
    throw std::runtime_error("redis-server did not exit within 10 s of SIGTERM; its log:\n" +
                             log());
  }
}

void RedisServer::pause() {
  if (!is_running()) throw std::logic_error("RedisServer::pause: not running");
  child_->send_signal(SIGSTOP);
  paused_ = true;
}

void RedisServer::resume() {
  if (!is_running()) throw std::logic_error("RedisServer::resume: not running");
  child_->send_signal(SIGCONT);
  paused_ = false;
}

UniqueFd RedisServer::connect_fresh(const Deadline& deadline) const {
  if (options_.transport == RedisTransport::unix_socket) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = socket_path_.string();
    std::memcpy(address.sun_path, path.data(), path.size());
    return connect_within(reinterpret_cast<const sockaddr*>(&address),
                          static_cast<socklen_t>(sizeof address), deadline);
  }
  const auto address = loopback_address("127.0.0.1", port_);
  return connect_within(address.get(), address.length(), deadline);
}

bool RedisServer::ping(std::chrono::milliseconds timeout) const {
  return command({"PING"}, timeout) == "+PONG";
}

std::vector<std::string> RedisServer::exchange_fresh(UniqueFd& fd,
                                                     const std::vector<std::string>& arguments,
                                                     std::size_t lines,
                                                     const Deadline& deadline) const {
  fd = connect_fresh(deadline);
  if (!fd) return {};
  // Pipelined: with a wrong password the command is refused too, and AUTH's reply says why.
  std::string request;
  if (!options_.password.empty()) {
    request = resp_command({"AUTH", options_.password});
    ++lines;
  }
  request += resp_command(arguments);
  auto replies = exchange(fd.get(), request, lines, deadline);
  if (replies.size() < lines) return {};
  if (!options_.password.empty()) {
    if (replies.front() != "+OK") return {replies.front()};
    replies.erase(replies.begin());
  }
  return replies;
}

std::string RedisServer::command(const std::vector<std::string>& arguments,
                                 std::chrono::milliseconds timeout) const {
  UniqueFd fd;
  const auto replies = exchange_fresh(fd, arguments, 1, Deadline(timeout));
  return replies.empty() ? std::string() : replies.front();
}

std::vector<std::string> RedisServer::command_lines(const std::vector<std::string>& arguments,
                                                    std::size_t lines,
                                                    std::chrono::milliseconds timeout) const {
  UniqueFd fd;
  return exchange_fresh(fd, arguments, lines, Deadline(timeout));
}

UniqueFd RedisServer::subscribe(std::string_view channel, std::chrono::milliseconds timeout) const {
  UniqueFd fd;
  // The confirmation: *3, $9, subscribe, $N, the channel, :1.
  const auto replies =
      exchange_fresh(fd, {"SUBSCRIBE", std::string(channel)}, 6, Deadline(timeout));
  if (replies.size() != 6 || replies[2] != "subscribe") return {};
  return fd;
}

std::optional<std::string> read_subscription(
    int subscription, const std::function<bool(std::string_view received)>& enough,
    const Deadline& deadline) {
  std::string received;
  while (!enough(received)) {
    pollfd entry{subscription, POLLIN, 0};
    const int ready = ::poll(&entry, 1, deadline.poll_timeout());
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    std::array<char, 4096> buffer;
    const ssize_t got = ::recv(subscription, buffer.data(), buffer.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return std::nullopt;
    received.append(buffer.data(), static_cast<std::size_t>(got));
  }
  return received;
}

std::string RedisServer::log() const {
  return previous_runs_log_ + (output_ != nullptr ? output_->text() : std::string());
}

}  // namespace epollchat::test
