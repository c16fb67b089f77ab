// Shared pieces of the adversarial tests: a fast line reader for one thread that drives
// hundreds of sockets, a reader thread for tests whose own thread blocks in writes, a writer
// that notices when the server stops reading, and checks on what receivers get.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
// Never: owns a socket; every fd handed in is borrowed from a ChatClient (or the test).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"
#include "support/deadline.hpp"
#include "support/loopback.hpp"
#include "support/pending_output.hpp"

namespace epollchat::test {

// Parses a whole decimal number, or nullopt.
inline std::optional<long> parse_number(std::string_view text) {
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Reads lines from one borrowed non-blocking socket with large reads into a buffer shared
// by all readers of the thread, copying only an incomplete last line, so hundreds of
// readers cost little memory. The views handed to the callback are valid only during the call.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] bool is_closed() const { return closed_; }
  [[nodiscard]] std::size_t bytes_received() const { return bytes_; }

  // Reads what is available now (at most `limit` bytes) and calls on_line(std::string_view)
  // for each complete line (without its LF). Returns false once the peer has closed (EOF or
  // reset).
  template <typename OnLine>
  bool read_available(OnLine&& on_line, std::size_t limit = SIZE_MAX) {
    if (closed_) return false;
    thread_local std::vector<char> scratch(kReadSize);
    for (std::size_t taken = 0; taken < limit;) {
      const std::size_t wanted = std::min(scratch.size(), limit - taken);
      const ssize_t got = ::recv(fd_, scratch.data(), wanted, 0);
      if (got > 0) {
        bytes_ += static_cast<std::size_t>(got);
        taken += static_cast<std::size_t>(got);
        split_lines(std::string_view(scratch.data(), static_cast<std::size_t>(got)), on_line);
        if (static_cast<std::size_t>(got) < wanted) return true;
        continue;
      }
      if (got == 0) {
        closed_ = true;
        return false;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == ECONNRESET) {
        closed_ = true;
        return false;
      }
      throw std::system_error(errno, std::generic_category(), "recv");
    }
    return true;
  }

 private:
  static constexpr std::size_t kReadSize = 256 * 1024;

  template <typename OnLine>
  void split_lines(std::string_view data, OnLine& on_line) {
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = data.find('\n', start);
      if (end == std::string_view::npos) break;
      if (tail_.empty()) {
        on_line(data.substr(start, end - start));
      } else {
        tail_.append(data.substr(start, end - start));
        on_line(std::string_view(tail_));
        tail_.clear();
      }
      start = end + 1;
    }
    tail_.append(data.substr(start));
  }

  int fd_;
  std::string tail_;  // an incomplete line, kept for the next read
  std::size_t bytes_ = 0;
  bool closed_ = false;
};

// Polls every reader until `is_done()` holds or the deadline passes; calls
// on_line(index, std::string_view) for each line. Returns whether is_done() held.
template <typename OnLine, typename IsDone>
bool pump_lines(std::vector<LineReader>& readers, OnLine&& on_line, IsDone&& is_done,
                const Deadline& deadline) {
  std::vector<pollfd> fds(readers.size());
  for (std::size_t i = 0; i < readers.size(); ++i) fds[i] = {readers[i].fd(), POLLIN, 0};
  while (!is_done()) {
    if (deadline.has_expired()) return false;
    const int ready = ::poll(fds.data(), fds.size(), std::min(deadline.poll_timeout(), 100));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (!readers[i].read_available([&](std::string_view line) { on_line(i, line); })) {
        fds[i].fd = -1;  // closed: poll ignores negative fds
      }
    }
  }
  return true;
}

// The first byte below 0x20 other than LF and TAB (or DEL) in `bytes`, if any.
inline std::optional<std::size_t> find_raw_control(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return i;
  }
  return std::nullopt;
}

// The p-th percentile (0..100) of `samples`, which it sorts.
inline double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples.size() - 1));
  return samples[index];
}

// A slow reader's pace: at most `bytes` from each socket every `interval`.
struct ReadPace {
  std::size_t bytes = 0;
  std::chrono::milliseconds interval{0};
};

// Runs LineReaders over borrowed sockets on a thread of its own, so the test's thread can
// block in writes (or wait for the server) meanwhile: each reads what arrives as it comes,
// or, given a ReadPace, as slowly as that says until read_freely(). on_line(index, line)
// runs on that thread with the lock held; the test looks at what it records through
// wait_until() and locked(), which take the same lock.
// Lifetime: the destructor stops and joins the thread; the sockets must outlive the object.
class BackgroundLines {
 public:
  using OnLine = std::function<void(std::size_t, std::string_view)>;

  BackgroundLines(const std::vector<int>& fds, OnLine on_line,
                  std::optional<ReadPace> pace = std::nullopt)
      : on_line_(std::move(on_line)), pace_(pace) {
    for (const int fd : fds) readers_.emplace_back(fd);
    thread_ = std::thread([this] { run(); });
  }
  BackgroundLines(const BackgroundLines&) = delete;
  BackgroundLines& operator=(const BackgroundLines&) = delete;
  ~BackgroundLines() {
    stop_ = true;
    thread_.join();
  }

  // Waits until condition() holds (evaluated with the lock held, after each batch of lines).
  // False on timeout, if reading failed (see error()), or as soon as the server has closed
  // one of the connections: the tests that read in the background expect their readers to
  // stay, and a daemon that died must not make them wait out the timeout.
  template <typename Condition>
  bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const auto any_closed = [&] {
      return std::any_of(readers_.begin(), readers_.end(),
                         [](const LineReader& reader) { return reader.is_closed(); });
    };
    return changed_.wait_for(lock, timeout, [&] {
      return condition() || !error_.empty() || any_closed();
    }) && condition();
  }
  // Runs action() with the lock held and returns its result.
  template <typename Action>
  auto locked(Action action) {
    std::lock_guard lock(mutex_);
    return action();
  }
  [[nodiscard]] bool is_closed(std::size_t index) {
    return locked([&] { return readers_[index].is_closed(); });
  }
  [[nodiscard]] std::size_t bytes_received(std::size_t index) {
    return locked([&] { return readers_[index].bytes_received(); });
  }
  [[nodiscard]] std::string error() {
    return locked([&] { return error_; });
  }
  // From now on, reads everything as it comes.
  void read_freely() {
    locked([&] { pace_.reset(); });
  }

 private:
  void run() {
    std::vector<pollfd> fds;
    for (const LineReader& reader : readers_) fds.push_back({reader.fd(), POLLIN, 0});
    try {
      while (!stop_) {
        const std::optional<ReadPace> pace = locked([&] { return pace_; });
        // The pace is what this reader is for: it sleeps between its reads on purpose.
        if (pace) std::this_thread::sleep_for(pace->interval);
        if (::poll(fds.data(), fds.size(), pace ? 0 : 50) < 0 && errno != EINTR) {
          throw std::system_error(errno, std::generic_category(), "poll");
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
          if (fds[i].revents == 0) continue;
          std::lock_guard lock(mutex_);
          const bool open = readers_[i].read_available(
              [&](std::string_view line) { on_line_(i, line); }, pace ? pace->bytes : SIZE_MAX);
          if (!open) fds[i].fd = -1;  // closed: poll ignores negative fds
        }
        changed_.notify_all();
      }
    } catch (const std::exception& failure) {
      std::lock_guard lock(mutex_);
      error_ = failure.what();
      changed_.notify_all();
    }
  }

  OnLine on_line_;
  std::optional<ReadPace> pace_;
  std::vector<LineReader> readers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string error_;
  std::atomic<bool> stop_ = false;
  std::thread thread_;
};

// Keeps writing next_line() to `output` until the server stops reading it: the socket
// stays full for `quiet`. A server that reads a client at all drains its socket within
// milliseconds, so a full second of no room means it was paused. Returns false if that does
// not happen before the deadline.
template <typename NextLine>
bool write_until_not_read(PendingOutput& output, int fd, NextLine&& next_line,
                          std::chrono::milliseconds quiet, const Deadline& deadline) {
  constexpr std::size_t kAhead = 256 * 1024;  // generated ahead of what the socket took
  while (!deadline.has_expired()) {
    while (output.size() < kAhead) output.append(next_line());
    if (output.send_to(fd) == SendOutcome::peer_gone) return false;
    if (!wait_writable(fd, quiet)) return true;
  }
  return false;
}

// `count` lines of exactly `size` bytes (LF included): "<prefix><n> " padded with `fill`.
inline std::string numbered_lines(std::string_view prefix, long first, long count, std::size_t size,
                                  char fill = '.') {
  std::string out;
  out.reserve(static_cast<std::size_t>(count) * size);
  for (long n = first; n < first + count; ++n) {
    std::string line = std::string(prefix) + std::to_string(n) + " ";
    line.resize(size - 1, fill);
    out += line;
    out.push_back('\n');
  }
  return out;
}

// voluntary_ctxt_switches of the process's main thread (/proc/PID/status): how often it
// went to sleep and was woken, so an idle loop's timer wake-ups can be counted.
inline long voluntary_context_switches(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  constexpr std::string_view kField = "voluntary_ctxt_switches:";
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with(kField)) continue;
    std::string_view value(line);
    value.remove_prefix(kField.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    if (const auto number = parse_number(value)) return *number;
  }
  throw std::runtime_error("no voluntary_ctxt_switches in /proc/" + std::to_string(pid) +
                           "/status");
}

// Bytes the kernel holds unacknowledged in the send queue of the IPv4 TCP connection from
// local port `from` to remote port `to` (the tx_queue of /proc/net/tcp), or nullopt if there
// is no such connection. For a server's socket to a client that does not read, it tells how
// much of the server's output the kernel took, so the rest is what the server queues.
inline std::optional<std::size_t> kernel_send_queue(std::uint16_t from, std::uint16_t to) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    const auto port_of = [](const std::string& address) {
      return std::stoul(address.substr(address.find(':') + 1), nullptr, 16);
    };
    if (!fields || state != "01" || port_of(local) != from || port_of(remote) != to) continue;
    return std::stoul(queues.substr(0, queues.find(':')), nullptr, 16);
  }
  return std::nullopt;
}

// Connects a non-blocking client socket whose buffers stay small on both sides of the
// connection: SO_RCVBUF `receive_buffer` and, through TCP_MAXSEG, segments of
// `segment_size` bytes. Linux sizes the server's send buffer to a connection from its
// segment size: on loopback (64 KiB segments) it holds megabytes, and a slow reader must
// drain half of it before the server sees its socket take anything again; with small
// segments it holds some 100 KB, so a client reading a few KB at a time is seen to make
// progress. The caller reads the welcome line. Throws std::system_error.
inline UniqueFd connect_with_small_buffers(std::uint16_t port, int receive_buffer,
                                           int segment_size) {
  const auto address = loopback_address("127.0.0.1", port);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const auto fail = [](const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
  };
  if (!fd) fail("socket");
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) != 0) {
    fail("setsockopt SO_RCVBUF");
  }
  if (::setsockopt(fd.get(), IPPROTO_TCP, TCP_MAXSEG, &segment_size, sizeof segment_size) != 0) {
    fail("setsockopt TCP_MAXSEG");
  }
  if (::connect(fd.get(), address.get(), address.length()) != 0 && errno != EINPROGRESS) {
    fail("connect");
  }
  pollfd entry{fd.get(), POLLOUT, 0};
  if (::poll(&entry, 1, 5000) != 1) fail("connect (poll)");
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) throw std::system_error(error, std::generic_category(), "connect");
  return fd;
}

// Raises this process's soft RLIMIT_NOFILE to at least `needed` descriptors (up to the hard
// limit); the daemon, started afterwards, inherits it. Returns whether `needed` is allowed.
inline bool raise_open_file_limit(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= needed) return true;
  limit.rlim_cur = std::min(needed, limit.rlim_max);
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= needed;
}

}  // namespace epollchat::test
