// ServerStream: the one place where the client's bytes cross the connection to the server.
//
// Every recv(), send() and shutdown() of the client is here, so an encrypted transport can
// later wrap or replace this class without touching the event loop.
//
// Owns: the connected socket (non-blocking, TCP_NODELAY once adopted). Never logs, never
// throws for what the peer can cause: EOF, ECONNRESET and EPIPE are outcomes.
// Lifetime: one per connection; a reconnect builds a new one.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

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
  void close() noexcept { socket_.reset(); }

 private:
  UniqueFd socket_;
};

}  // namespace epollchat::client
