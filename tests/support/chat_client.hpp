// ChatClient: a test's TCP connection to the chat server, line-oriented and time-bounded.
//
// Owns: one non-blocking, CLOEXEC, TCP_NODELAY socket and the bytes received but not yet
// consumed. Every operation polls with a timeout, so a server that never answers fails the
// test instead of hanging it. EOF and ECONNRESET from the server are states (peer_closed()),
// not errors.
// Never: shared between threads (use one client per thread, or one thread for many clients
// through receive_available() and take_buffered_line()).
// Lifetime: the connection closes (FIN) with the object unless reset() sent an RST first.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include "core/tls_context.hpp"
#include "core/tls_stream.hpp"
#include "core/unique_fd.hpp"
#include "support/deadline.hpp"

namespace epollchat::test {

inline constexpr std::chrono::milliseconds kReplyTimeout = 5s;

struct ConnectOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal
  // The client's own address (bound before connect, any port), so that the server sees a
  // peer other than 127.0.0.1: "127.0.0.2". Empty: the kernel chooses.
  std::string source;
  // SO_RCVBUF, set before connect() so the advertised window is small from the start.
  std::optional<int> receive_buffer;
  std::chrono::milliseconds timeout = kReplyTimeout;
  // Speak TLS with this client context (not owned), checking the certificate against
  // `host` (TLS handshake failures throw std::runtime_error).
  const TlsContext* tls = nullptr;

  static ConnectOptions over_tls(const TlsContext& context) {
    ConnectOptions options;
    options.tls = &context;
    return options;
  }
  static ConnectOptions to_host(std::string host_literal) {
    ConnectOptions options;
    options.host = std::move(host_literal);
    return options;
  }
  static ConnectOptions from_source(std::string source_literal) {
    ConnectOptions options;
    options.source = std::move(source_literal);
    return options;
  }
  static ConnectOptions with_receive_buffer(int bytes) {
    ConnectOptions options;
    options.receive_buffer = bytes;
    return options;
  }
  static ConnectOptions with_timeout(std::chrono::milliseconds limit) {
    ConnectOptions options;
    options.timeout = limit;
    return options;
  }
};

class ChatClient {
 public:
  // Connects, throwing std::system_error on failure or timeout.
  explicit ChatClient(std::uint16_t port, ConnectOptions options = {});
  ChatClient(ChatClient&&) noexcept = default;
  ChatClient& operator=(ChatClient&&) noexcept = default;

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] std::uint16_t local_port() const;

  // Sends all of `bytes`. Throws std::system_error on a socket error (e.g. EPIPE after the
  // server closed) or std::runtime_error if the data cannot be sent within `timeout`.
  void send(std::string_view bytes, std::chrono::milliseconds timeout = kReplyTimeout);

  // The next line without its LF. nullopt on timeout or when the server closed first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = kReplyTimeout);
  // Reads one line and compares it, with both sides printed (escaped) on mismatch.
  ::testing::AssertionResult expect_line(std::string_view expected,
                                         std::chrono::milliseconds timeout = kReplyTimeout);
  // Reads lines until one equals `expected`, skipping others. Fails on timeout or close.
  ::testing::AssertionResult skip_until_line(std::string_view expected,
                                             std::chrono::milliseconds timeout = kReplyTimeout);
  // Reads lines until one satisfies `wanted`, skipping others, and returns it; nullopt on
  // timeout or close.
  std::optional<std::string> skip_until(const std::function<bool(std::string_view)>& wanted,
                                        std::chrono::milliseconds timeout = kReplyTimeout);
  // Reads until the server closes; returns every byte not yet consumed, or nullopt if the
  // connection is still open after `timeout`.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds timeout = kReplyTimeout);

  // Half-close: the server sees EOF, this side can still read.
  void shutdown_write();
  // Abortive close: SO_LINGER {1, 0} then close(), so the server gets an RST.
  void reset();
  // Orderly close (FIN).
  void close() { fd_.reset(); }

  // For one thread driving many clients with poll(2): reads whatever is available now,
  // without blocking. Returns false once the server has closed the connection.
  bool receive_available();
  // A complete line already received, if any (without its LF).
  std::optional<std::string> take_buffered_line();

  [[nodiscard]] bool peer_closed() const { return eof_; }
  [[nodiscard]] bool was_reset() const { return was_reset_; }
  // Bytes received but not yet consumed as lines.
  [[nodiscard]] std::size_t buffered_bytes() const { return input_.size() - consumed_; }

 private:
  // recv() through TLS.
  ssize_t receive_encrypted(std::span<char> buffer);
  // The TLS handshake, after connect().
  void secure(const TlsContext& context, const std::string& host, const Deadline& deadline);

  UniqueFd fd_;
  std::unique_ptr<TlsStream> tls_;
  std::string input_;
  std::size_t consumed_ = 0;  // input_ before this offset has been handed out
  bool eof_ = false;
  bool was_reset_ = false;
};

// Makes bytes printable for failure messages: \n, \r, \t, \0 and \xNN for the rest.
std::string escape_bytes(std::string_view bytes, std::size_t max_length = 300);

}  // namespace epollchat::test
