#include "client/server_stream.hpp"

#include <sys/socket.h>

#include <cerrno>

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

StreamOutcome ServerStream::receive(std::span<char> buffer) noexcept {
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
  for (;;) {
    const ssize_t sent = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent >= 0) return {StreamResult::done, static_cast<std::size_t>(sent), 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {StreamResult::would_block, 0, 0};
    if (errno == EPIPE || is_connection_lost(errno)) return {StreamResult::closed, 0, 0};
    return {StreamResult::failed, 0, errno};
  }
}

void ServerStream::shut_down_writing() noexcept { (void)::shutdown(socket_.get(), SHUT_WR); }

}  // namespace epollchat::client
