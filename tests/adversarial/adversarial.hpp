// Shared pieces of the adversarial tests: a fast line reader for one thread that drives
// hundreds of sockets, and checks on what receivers get.
//
// Header-only on purpose: each test executable compiles it with its own gtest.
// Never: owns a socket; every fd handed in is borrowed from a ChatClient (or the test).
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support/deadline.hpp"

namespace epollchat::test {

inline constexpr std::string_view kSaysInfix = " says >> ";

// Splits "Client #N says >> text" into N and text; nullopt for any other line.
struct ChatLine {
  int sender = 0;
  std::string_view text;
};
inline std::optional<ChatLine> parse_chat_line(std::string_view line) {
  constexpr std::string_view kPrefix = "Client #";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  int sender = 0;
  const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), sender);
  if (error != std::errc{}) return std::nullopt;
  line.remove_prefix(static_cast<std::size_t>(end - line.data()));
  if (!line.starts_with(kSaysInfix)) return std::nullopt;
  line.remove_prefix(kSaysInfix.size());
  return ChatLine{sender, line};
}

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

  // Reads what is available now and calls on_line(std::string_view) for each complete
  // line (without its LF). Returns false once the peer has closed (EOF or reset).
  template <typename OnLine>
  bool read_available(OnLine&& on_line) {
    if (closed_) return false;
    thread_local std::vector<char> scratch(kReadSize);
    for (;;) {
      const ssize_t got = ::recv(fd_, scratch.data(), scratch.size(), 0);
      if (got > 0) {
        bytes_ += static_cast<std::size_t>(got);
        split_lines(std::string_view(scratch.data(), static_cast<std::size_t>(got)), on_line);
        if (static_cast<std::size_t>(got) < scratch.size()) return true;
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

}  // namespace epollchat::test
