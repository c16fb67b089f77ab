#include "client/server_stream.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/socket.hpp"

namespace epollchat::client {
namespace {

// The errors with which the kernel reports a connection that the server or the network
// ended: a reset, or (after a network outage) a retransmission or keepalive timeout.
bool is_connection_lost(int error) noexcept {
  return error == ECONNRESET || error == ETIMEDOUT || error == EHOSTUNREACH ||
         error == ENETUNREACH || error == ECONNABORTED || error == ENETDOWN;
}

}  // namespace

ServerStream::ServerStream(UniqueFd socket) : socket_(std::move(socket)) {
  set_nonblocking(socket_.get());
  set_tcp_nodelay(socket_.get());
}

ServerStream ServerStream::open(const ServerAddress& server, const TlsContext* tls,
                                std::optional<std::chrono::milliseconds> timeout) {
  ServerStream stream(connect_to(server, timeout));
  if (tls != nullptr) stream.secure(*tls, server, timeout.value_or(kHandshakeTimeout));
  return stream;
}

void ServerStream::secure(const TlsContext& tls, const ServerAddress& server,
                          std::chrono::milliseconds timeout) {
  const std::string failed = "TLS with " + server.to_string() + " failed: ";
  try {
    tls_ = std::make_unique<TlsStream>(tls, socket_.get(), server.host);
  } catch (const TlsSetupError& error) {
    throw ConnectError(failed + error.what());
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const TlsStatus status = tls_->handshake();
    if (status == TlsStatus::ok) return;
    if (status == TlsStatus::closed || status == TlsStatus::failed) {
      throw ConnectError(failed + tls_->failure());
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw ConnectError(failed + "no handshake within the time allowed");
    pollfd ready{socket_.get(),
                 static_cast<short>(status == TlsStatus::want_read ? POLLIN : POLLOUT), 0};
    if (::poll(&ready, 1, static_cast<int>(left.count()) + 1) < 0 && errno != EINTR) {
      throw ConnectError(failed + std::strerror(errno));
    }
  }
}

StreamOutcome ServerStream::receive(std::span<char> buffer) noexcept {
  if (tls_) {
    const TlsStream::Result got = tls_->read(buffer);
    switch (got.status) {
      case TlsStatus::ok:
        return {StreamResult::done, got.bytes, 0};
      case TlsStatus::want_read:
      case TlsStatus::want_write:
        return {StreamResult::would_block, 0, 0};
      case TlsStatus::closed:
        return {StreamResult::closed, 0, 0};
      case TlsStatus::failed:
        break;
    }
    if (tls_->error() == 0 || is_connection_lost(tls_->error())) {
      return {StreamResult::closed, 0, 0};
    }
    return {StreamResult::failed, 0, tls_->error()};
  }
  for (;;) {
    const ssize_t got = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
    if (got > 0) return {StreamResult::done, static_cast<std::size_t>(got), 0};
    if (got == 0 || is_connection_lost(errno)) return {StreamResult::closed, 0, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {StreamResult::would_block, 0, 0};
    return {StreamResult::failed, 0, errno};
  }
}

StreamOutcome ServerStream::send(std::string_view bytes) noexcept {
  if (tls_) {
    const TlsStream::Result sent = tls_->write(bytes);
    switch (sent.status) {
      case TlsStatus::ok:
        return {StreamResult::done, sent.bytes, 0};
      case TlsStatus::want_read:
      case TlsStatus::want_write:
        return {StreamResult::would_block, 0, 0};
      case TlsStatus::closed:
        return {StreamResult::closed, 0, 0};
      case TlsStatus::failed:
        break;
    }
    const int error = tls_->error();
    if (error == 0 || error == EPIPE || is_connection_lost(error)) {
      return {StreamResult::closed, 0, 0};
    }
    return {StreamResult::failed, 0, error};
  }
  for (;;) {
    const ssize_t sent = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent >= 0) return {StreamResult::done, static_cast<std::size_t>(sent), 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {StreamResult::would_block, 0, 0};
    if (errno == EPIPE || is_connection_lost(errno)) return {StreamResult::closed, 0, 0};
    return {StreamResult::failed, 0, errno};
  }
}

void ServerStream::shut_down_writing() noexcept {
  // close_notify first: the server reads it as the end of our input, like the FIN.
  if (tls_) tls_->send_close_notify();
  (void)::shutdown(socket_.get(), SHUT_WR);
}

}  // namespace epollchat::client
