// TlsStream: the TLS state of one connection over a non-blocking socket (an OpenSSL SSL).
//
// Owns: the SSL object. Never: owns or closes the socket, which stays with the Connection
// (or the handshake) that watches it; blocks; logs.
//
// Each call does what the socket allows now and says what it waits for (readable or
// writable), so that the caller's edge-triggered loop drives it like any other socket.
// Peer errors are outcomes (closed, failed with a reason), not exceptions.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/tls_context.hpp"

using SSL = struct ssl_st;

namespace epollchat {

enum class TlsStatus {
  ok,          // done (handshake) or some bytes moved
  want_read,   // nothing more until the socket is readable
  want_write,  // nothing more until the socket is writable
  closed,      // the peer ended the session (close_notify or EOF)
  failed,      // a protocol error or a socket error; see failure() and error()
};

class TlsStream {
 public:
  // A stream over the connected socket `fd` (not owned), made from `context`: the server
  // side for a server context; the client side, expecting `server_name` (sent as SNI and
  // checked against the certificate), for a client context. Throws TlsSetupError.
  TlsStream(const TlsContext& context, int fd, const std::string& server_name = {});
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Advances the handshake: ok once it is complete.
  TlsStatus handshake();

  struct Result {
    std::size_t bytes = 0;
    TlsStatus status = TlsStatus::ok;
  };
  // Decrypts into `buffer` as much as the socket and OpenSSL hold, up to its size. With
  // bytes > 0 the status is ok; a short read means everything available was taken (as with
  // recv), unless is_drained() says otherwise (the peer's close was seen behind the data).
  Result read(std::span<char> buffer);
  // Encrypts and sends up to `bytes.size()` bytes (at least one record's worth if ok). After
  // want_write, the next call must offer at least the same bytes again (they may have
  // moved in memory).
  Result write(std::string_view bytes);
  // After read() returned bytes: whether nothing more is waiting (another read would only
  // report want_read).
  [[nodiscard]] bool is_drained() const noexcept { return drained_; }

  // Sends close_notify if the socket takes it now; never waits.
  void send_close_notify() noexcept;

  // Whether the kernel encrypts what is sent on the socket (kernel TLS), so that plain
  // sendmsg() on it is encrypted: known once the handshake is complete.
  [[nodiscard]] bool sends_through_kernel() const noexcept;
  // After failed: why, in one line ("wrong version number", "certificate verify failed:
  // ..."); the errno for a socket error, else 0.
  [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
  [[nodiscard]] int error() const noexcept { return error_; }
  // "TLSv1.3 TLS_AES_256_GCM_SHA384", for the log.
  [[nodiscard]] std::string description() const;

 private:
  TlsStatus status_of(int result);

  SSL* ssl_;
  std::string failure_;
  int error_ = 0;
  bool drained_ = false;
};

}  // namespace epollchat
