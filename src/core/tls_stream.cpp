#include "core/tls_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>

namespace epollchat {
namespace {

bool is_ip_literal(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

}  // namespace

TlsStream::TlsStream(const TlsContext& context, int fd, const std::string& server_name)
    : ssl_(SSL_new(context.get())) {
  if (ssl_ == nullptr) throw TlsSetupError("cannot create a TLS session: " + take_tls_errors());
  if (SSL_set_fd(ssl_, fd) != 1) {
    SSL_free(ssl_);
    throw TlsSetupError("cannot attach TLS to the socket: " + take_tls_errors());
  }
  if (context.is_server()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (server_name.empty()) return;
  X509_VERIFY_PARAM* expected = SSL_get0_param(ssl_);
  const bool named = is_ip_literal(server_name)
                         ? X509_VERIFY_PARAM_set1_ip_asc(expected, server_name.c_str()) == 1
                         // SSL_set_tlsext_host_name(), without the macro's C cast.
                         : SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                    const_cast<char*>(server_name.c_str())) == 1 &&
                               X509_VERIFY_PARAM_set1_host(expected, server_name.c_str(), 0) == 1;
  if (!named) {
    SSL_free(ssl_);
    throw TlsSetupError("cannot check the server's name " + server_name + ": " + take_tls_errors());
  }
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsStatus TlsStream::status_of(int result) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return TlsStatus::want_read;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return TlsStatus::closed;
    case SSL_ERROR_SYSCALL:
      if (errno == 0 || errno == EAGAIN) {
        // EOF without close_notify (accepted as an end, like a plain socket's EOF).
        ERR_clear_error();
        return TlsStatus::closed;
      }
      error_ = errno;
      if (failure_.empty()) failure_ = std::strerror(errno);
      ERR_clear_error();
      return TlsStatus::failed;
    default: {
      std::string reasons = take_tls_errors();
      const long verified = SSL_get_verify_result(ssl_);
      if (verified != X509_V_OK) {
        reasons +=
            std::string(reasons.empty() ? "" : ": ") + X509_verify_cert_error_string(verified);
      }
      if (failure_.empty()) failure_ = reasons.empty() ? "TLS protocol error" : reasons;
      return TlsStatus::failed;
    }
  }
}

TlsStatus TlsStream::handshake() {
  ERR_clear_error();
  errno = 0;
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) return TlsStatus::ok;
  const TlsStatus status = status_of(result);
  if (status == TlsStatus::closed && failure_.empty()) failure_ = "closed during the handshake";
  return status;
}

TlsStream::Result TlsStream::read(std::span<char> buffer) {
  std::size_t total = 0;
  drained_ = false;
  while (total < buffer.size()) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int result = SSL_read_ex(ssl_, buffer.data() + total, buffer.size() - total, &n);
    if (result == 1) {
      total += n;
      continue;
    }
    const TlsStatus status = status_of(result);
    if (total == 0) return {0, status};
    // The data first; whatever stopped the read is reported again by the next call.
    drained_ = status == TlsStatus::want_read;
    break;
  }
  return {total, TlsStatus::ok};
}

TlsStream::Result TlsStream::write(std::string_view bytes) {
  ERR_clear_error();
  errno = 0;
  std::size_t written = 0;
  const int result = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
  if (result == 1) return {written, TlsStatus::ok};
  const TlsStatus status = status_of(result);
  // Writing after the peer's close_notify: the peer is gone.
  if (status == TlsStatus::closed) {
    error_ = EPIPE;
    return {0, TlsStatus::failed};
  }
  return {0, status};
}

void TlsStream::send_close_notify() noexcept {
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool TlsStream::sends_through_kernel() const noexcept {
#ifdef BIO_get_ktls_send
  return BIO_get_ktls_send(SSL_get_wbio(ssl_)) != 0;
#else
  return false;
#endif
}

std::string TlsStream::description() const {
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

}  // namespace epollchat
