// TlsContext: the TLS settings that many encrypted connections share (an OpenSSL SSL_CTX):
// protocol versions, ciphers, and the server's certificate or the client's trust anchors.
//
// Owns: one SSL_CTX reference. Each TlsStream made from it takes a reference of its own, so
// a context may be replaced (a certificate reload) while connections made from the old one
// go on.
// Never: logs, or puts key material into an error message.
//
// The settings are Mozilla's "intermediate" profile: TLS 1.2 at least (1.3 preferred, as
// OpenSSL does by default), forward-secret AEAD ciphers only, no renegotiation, no
// compression. Kernel TLS is offered to OpenSSL; whether a connection gets it depends on the
// kernel (TlsStream::sends_through_kernel()).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

using SSL_CTX = struct ssl_ctx_st;

namespace epollchat {

// A TLS setting that cannot be used: a certificate or key that is unreadable, not PEM, or
// not a matching pair; a CA file that cannot be loaded. The message says which and why.
class TlsSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TlsContext {
 public:
  // For accepting: a certificate chain (leaf first) and its private key, both PEM text.
  // Throws TlsSetupError.
  static TlsContext for_server(std::string_view certificate_chain_pem,
                               std::string_view private_key_pem);
  // For connecting: verifies servers against `ca_file` (PEM), or the system's trust store
  // when it is empty. Throws TlsSetupError.
  static TlsContext for_client(const std::string& ca_file);

  // No context: nothing can be encrypted with it until one is assigned.
  TlsContext() noexcept = default;
  TlsContext(TlsContext&& other) noexcept;
  TlsContext& operator=(TlsContext&& other) noexcept;
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  [[nodiscard]] SSL_CTX* get() const noexcept { return context_; }
  [[nodiscard]] bool is_set() const noexcept { return context_ != nullptr; }
  [[nodiscard]] bool is_server() const noexcept { return is_server_; }
  // The certificate's subject and expiry, for the log ("CN=chat.example.org, expires ...").
  [[nodiscard]] std::string certificate_summary() const;

 private:
  TlsContext(SSL_CTX* context, bool is_server) noexcept
      : context_(context), is_server_(is_server) {}

  SSL_CTX* context_ = nullptr;
  bool is_server_ = false;
};

// Whether the kernel can encrypt TLS records (the "tls" TCP upper-layer protocol is
// loaded); an unprivileged process cannot load it on demand.
[[nodiscard]] bool kernel_offers_tls();

// The reasons OpenSSL queued for the last failure, as one line ("wrong version number",
// "certificate verify failed: self-signed certificate"); clears the queue. Never contains
// key material.
std::string take_tls_errors();

}  // namespace epollchat
