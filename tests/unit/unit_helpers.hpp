// Helpers shared by the unit tests: socketpairs, draining a peer, running a loop until
// something happened, and a look at what an epoll set watches. Temporary files come from the
// one TempDir of tests/support, which is header-only so that these tests can use it too.
//
// Everything waits on a real signal (a byte arriving, a callback running) and only uses a
// deadline as a guard against a hang, never as a stand-in for synchronisation.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include "core/chunk.hpp"
#include "core/event_loop.hpp"
#include "core/unique_fd.hpp"

// Relative: the unit tests are built without tests/ on their include path.
#include "support/temp_dir.hpp"

namespace epollchat::test {

// How long a test waits for something that should happen at once before calling it a failure.
inline constexpr std::chrono::seconds kGuard{5};

[[noreturn]] inline void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct SocketPair {
  UniqueFd local;  // handed to the code under test
  UniqueFd peer;   // the test's end
};

// A connected AF_UNIX stream pair, both ends non-blocking and CLOEXEC.
inline SocketPair make_socketpair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    throw_errno("socketpair");
  }
  return SocketPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

inline void set_buffer_size(int fd, int option, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes) != 0) throw_errno("setsockopt");
}

// Writes as much of `bytes` as the socket takes now; returns how much that was.
inline std::size_t write_some(int fd, std::string_view bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n =
        send(fd, bytes.data() + written, bytes.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    throw_errno("send");
  }
  return written;
}

// Writes all of `bytes`, waiting for room (the reader must be another party).
inline void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    bytes.remove_prefix(write_some(fd, bytes));
    if (bytes.empty()) break;
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kGuard).count())) != 1) {
      throw std::runtime_error("write_all: no room within the guard time");
    }
  }
}

// What the socket holds right now, without waiting; `eof` is set when the peer finished.
inline std::string read_available(int fd, bool* eof = nullptr) {
  std::string result;
  char buffer[65536];
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      result.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      if (eof != nullptr) *eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    throw_errno("recv");
  }
  return result;
}

// Runs turns of `loop` until `done()` holds; false if the guard time passed first.
inline bool run_until(EventLoop& loop, const std::function<bool()>& done,
                      std::chrono::milliseconds guard = kGuard) {
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    loop.run_once(50);
  }
  return true;
}

// A chunk of `pool` holding `text`.
inline ChunkRef make_chunk(ChunkPool& pool, std::string_view text) {
  ChunkRef chunk = pool.acquire(text.size());
  std::memcpy(chunk->tail(), text.data(), text.size());
  chunk->commit(text.size());
  return chunk;
}

// The event mask some epoll instance of this process watches `fd` with, read from
// /proc/self/fdinfo (tests have one loop at a time); nullopt if no epoll set has it.
inline std::optional<std::uint32_t> watched_events(int fd) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const auto target = std::filesystem::read_symlink(entry.path(), error);
    if (error || target.string() != "anon_inode:[eventpoll]") continue;
    std::ifstream info("/proc/self/fdinfo/" + entry.path().filename().string());
    std::string line;
    while (std::getline(info, line)) {
      // "tfd:        5 events:       19 data: ..."
      if (!line.starts_with("tfd:")) continue;
      std::istringstream fields(line);
      std::string label;
      int target_fd = -1;
      std::uint32_t events = 0;
      fields >> label >> target_fd >> label >> std::hex >> events;
      if (target_fd == fd) return events;
    }
  }
  return std::nullopt;
}

}  // namespace epollchat::test
