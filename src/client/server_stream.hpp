// ServerStream: the one place where the client's bytes cross the connection to the server.
//
// Every recv(), send() and shutdown() of the client is here, plain or through TLS, so the
// event loop is the same for both.
//
// Owns: the connected socket (non-blocking, TCP_NODELAY once adopted) and, for an encrypted
// connection, its TlsStream. Never logs, never throws for what the peer can cause once
// connected: EOF, ECONNRESET and EPIPE are outcomes.
// Lifetime: one per connection; a reconnect builds a new one.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "client/server_address.hpp"
#include "core/tls_context.hpp"
#include "core/tls_stream.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::client {

enum class StreamResult {
  done,         // `bytes` says how many moved.
  would_block,  // Nothing moved; wait for the next edge.
  closed,       // The server closed or reset the connection.
  failed,       // Another error; `error` holds the errno.
};

struct StreamOutcome {
  StreamResult result = StreamResult::done;
  std::size_t bytes = 0;
  int error = 0;
};

class ServerStream {
 public:
  ServerStream() = default;
  // Adopts a connected socket and makes it non-blocking.
  explicit ServerStream(UniqueFd socket);

  // Connects to `server` (see connect_to) and, with `tls`, completes the TLS handshake,
  // checking the server's certificate against the context's CAs and server.host, within
  // `timeout` (default kHandshakeTimeout for the handshake). Throws ConnectError with one
  // line: "cannot connect to HOST:PORT: ...", or "TLS with HOST:PORT failed: certificate
  // verify failed: self-signed certificate" and the like.
  static ServerStream open(const ServerAddress& server, const TlsContext* tls,
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  static constexpr std::chrono::seconds kHandshakeTimeout{10};

  [[nodiscard]] bool is_encrypted() const noexcept { return tls_ != nullptr; }

  [[nodiscard]] bool is_open() const noexcept { return socket_.is_open(); }
  // For epoll only: never read or written by anyone but this class.
  [[nodiscard]] int fd() const noexcept { return socket_.get(); }

  // One recv() into `buffer`; EINTR is retried here.
  [[nodiscard]] StreamOutcome receive(std::span<char> buffer) noexcept;
  // One send() of as much of `bytes` as the socket takes; EINTR is retried here.
  [[nodiscard]] StreamOutcome send(std::string_view bytes) noexcept;
  // Our FIN: the server sees the end of our input. ENOTCONN (a reset meanwhile) is left
  // for the next receive() to find.
  void shut_down_writing() noexcept;
  void close() noexcept {
    tls_.reset();
    socket_.reset();
  }

 private:
  // The handshake, blocking in poll() until done or `timeout`; throws ConnectError.
  void secure(const TlsContext& tls, const ServerAddress& server,
              std::chrono::milliseconds timeout);

  UniqueFd socket_;
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace epollchat::client
