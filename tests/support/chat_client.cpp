#include "support/chat_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "support/deadline.hpp"
#include "support/loopback.hpp"

namespace epollchat::test {
namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// Polls one fd; returns false on timeout.
bool wait_for_events(int fd, short events, const Deadline& deadline) {
  for (;;) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, deadline.poll_timeout());
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) throw_errno(errno, "poll");
  }
}

}  // namespace

ChatClient::ChatClient(std::uint16_t port, ConnectOptions options) {
  const auto address = loopback_address(options.host, port);
  fd_.reset(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) throw_errno(errno, "socket");
  const int one = 1;
  ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (options.receive_buffer) {
    const int size = *options.receive_buffer;
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0) {
      throw_errno(errno, "setsockopt SO_RCVBUF");
    }
  }
  if (!options.source.empty()) {
    const auto source = loopback_address(options.source, 0);
    if (::bind(fd_.get(), source.get(), source.length()) != 0) {
      throw_errno(errno, "bind " + options.source);
    }
  }
  const std::string target = options.host + ":" + std::to_string(port);
  const Deadline deadline(options.timeout);
  if (::connect(fd_.get(), address.get(), address.length()) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) throw_errno(errno, "connect " + target);
    if (!wait_for_events(fd_.get(), POLLOUT, deadline)) {
      throw_errno(ETIMEDOUT, "connect " + target);
    }
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) throw_errno(error, "connect " + target);
  }
  if (options.tls != nullptr) secure(*options.tls, options.host, deadline);
}

void ChatClient::secure(const TlsContext& context, const std::string& host,
                        const Deadline& deadline) {
  tls_ = std::make_unique<TlsStream>(context, fd_.get(), host);
  for (;;) {
    const TlsStatus status = tls_->handshake();
    if (status == TlsStatus::ok) return;
    if (status == TlsStatus::closed || status == TlsStatus::failed) {
      throw std::runtime_error("TLS handshake: " + tls_->failure());
    }
    if (!wait_for_events(fd_.get(), status == TlsStatus::want_read ? POLLIN : POLLOUT, deadline)) {
      throw std::runtime_error("TLS handshake: timed out");
    }
  }
}

std::uint16_t ChatClient::local_port() const { return epollchat::test::local_port(fd_.get()); }

void ChatClient::send(std::string_view bytes, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (!bytes.empty()) {
    if (tls_) {
      const TlsStream::Result result = tls_->write(bytes);
      if (result.status == TlsStatus::ok) {
        bytes.remove_prefix(result.bytes);
        continue;
      }
      if (result.status == TlsStatus::failed) {
        throw_errno(tls_->error() != 0 ? tls_->error() : EPROTO, "TLS send: " + tls_->failure());
      }
      if (!wait_for_events(fd_.get(), result.status == TlsStatus::want_read ? POLLIN : POLLOUT,
                           deadline)) {
        throw std::runtime_error("send: " + std::to_string(bytes.size()) +
                                 " bytes still unsent after " + std::to_string(timeout.count()) +
                                 " ms (the server is not reading)");
      }
      continue;
    }
    const ssize_t sent = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw_errno(errno, "send");
    if (!wait_for_events(fd_.get(), POLLOUT, deadline)) {
      throw std::runtime_error("send: " + std::to_string(bytes.size()) +
                               " bytes still unsent after " + std::to_string(timeout.count()) +
                               " ms (the server is not reading)");
    }
  }
}

ssize_t ChatClient::receive_encrypted(std::span<char> buffer) {
  const TlsStream::Result result = tls_->read(buffer);
  switch (result.status) {
    case TlsStatus::ok:
      return static_cast<ssize_t>(result.bytes);
    case TlsStatus::closed:
      return 0;
    case TlsStatus::want_read:
    case TlsStatus::want_write:
      errno = EAGAIN;
      return -1;
    case TlsStatus::failed:
      break;
  }
  errno = tls_->error() != 0 ? tls_->error() : EPROTO;
  return -1;
}

bool ChatClient::receive_available() {
  if (eof_) return false;
  // Drop consumed bytes before the buffer grows, so reading many lines stays linear.
  if (consumed_ > 0 && consumed_ >= input_.size() / 2) {
    input_.erase(0, consumed_);
    consumed_ = 0;
  }
  // Received straight into the spare tail of input_, so a fast reader copies nothing twice.
  constexpr std::size_t kChunk = 65536;
  for (;;) {
    const std::size_t used = input_.size();
    input_.resize(used + kChunk);
    const ssize_t got = tls_ ? receive_encrypted(std::span<char>(input_.data() + used, kChunk))
                             : ::recv(fd_.get(), input_.data() + used, kChunk, 0);
    input_.resize(used + static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
    if (got > 0) continue;
    if (got == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return true;
    if (errno == ECONNRESET) {
      eof_ = true;
      was_reset_ = true;
      return false;
    }
    throw_errno(errno, "recv");
  }
}

std::optional<std::string> ChatClient::take_buffered_line() {
  const auto end = input_.find('\n', consumed_);
  if (end == std::string::npos) return std::nullopt;
  std::string line = input_.substr(consumed_, end - consumed_);
  consumed_ = end + 1;
  return line;
}

std::optional<std::string> ChatClient::read_line(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    if (auto line = take_buffered_line()) return line;
    if (!receive_available()) return take_buffered_line();
    if (auto line = take_buffered_line()) return line;
    if (!wait_for_events(fd_.get(), POLLIN, deadline)) return std::nullopt;
  }
}

::testing::AssertionResult ChatClient::expect_line(std::string_view expected,
                                                   std::chrono::milliseconds timeout) {
  const auto line = read_line(timeout);
  if (!line) {
    return ::testing::AssertionFailure()
           << "expected line \"" << escape_bytes(expected) << "\" but "
           << (eof_ ? (was_reset_ ? "the server reset the connection"
                                  : "the server closed the connection")
                    : "nothing arrived within " + std::to_string(timeout.count()) + " ms")
           << (buffered_bytes() > 0
                   ? " (partial line buffered: \"" +
                         escape_bytes(std::string_view(input_).substr(consumed_)) + "\")"
                   : std::string());
  }
  if (*line != expected) {
    return ::testing::AssertionFailure()
           << "expected line \"" << escape_bytes(expected) << "\"\n               got \""
           << escape_bytes(*line) << "\"";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ChatClient::skip_until_line(std::string_view expected,
                                                       std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  std::size_t skipped = 0;
  std::string last;
  for (;;) {
    const auto line = read_line(deadline.remaining());
    if (!line) {
      return ::testing::AssertionFailure()
             << "line \"" << escape_bytes(expected) << "\" never arrived ("
             << (eof_ ? "connection closed" : "timed out") << " after skipping " << skipped
             << " lines; last: \"" << escape_bytes(last) << "\")";
    }
    if (*line == expected) return ::testing::AssertionSuccess();
    ++skipped;
    last = *line;
  }
}

std::optional<std::string> ChatClient::skip_until(
    const std::function<bool(std::string_view)>& wanted, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (auto line = read_line(deadline.remaining())) {
    if (wanted(*line)) return line;
  }
  return std::nullopt;
}

std::optional<std::string> ChatClient::read_until_closed(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (receive_available()) {
    if (!wait_for_events(fd_.get(), POLLIN, deadline)) return std::nullopt;
  }
  std::string rest = input_.substr(consumed_);
  input_.clear();
  consumed_ = 0;
  return rest;
}

void ChatClient::shutdown_write() {
  if (tls_) tls_->send_close_notify();
  if (::shutdown(fd_.get(), SHUT_WR) != 0) throw_errno(errno, "shutdown");
}

void ChatClient::reset() {
  const linger abort_on_close{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  fd_.reset();
}

std::string escape_bytes(std::string_view bytes, std::size_t max_length) {
  std::string out;
  for (const char c : bytes.substr(0, max_length)) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\0";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (byte < 0x20 || byte >= 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  if (bytes.size() > max_length) {
    out += "...(" + std::to_string(bytes.size()) + " bytes)";
  }
  return out;
}

}  // namespace epollchat::test
