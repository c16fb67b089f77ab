#include "core/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <utility>

namespace epollchat {
namespace {

// Mozilla's "intermediate" TLS 1.2 ciphers (server-side TLS guidelines, version 5.7); TLS 1.3
// keeps OpenSSL's default suites, which are the same three the profile names.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:prime256v1:secp384r1";
// The profile's TLS 1.3 suites, AES-128 first: each recipient's copy of a line is encrypted
// on its own, and AES-128-GCM does that faster than AES-256-GCM (about 10 % with AES-NI,
// `openssl speed -evp`), with ample margin for chat. The server's order decides, except
// that a client that puts ChaCha20 first (one without AES instructions) gets it.
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct ContextFree {
  void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};
using UniqueBio = std::unique_ptr<BIO, BioFree>;
using UniqueX509 = std::unique_ptr<X509, X509Free>;
using UniqueKey = std::unique_ptr<EVP_PKEY, KeyFree>;
using UniqueContext = std::unique_ptr<SSL_CTX, ContextFree>;

[[noreturn]] void fail(const std::string& what) {
  const std::string reasons = take_tls_errors();
  throw TlsSetupError(reasons.empty() ? what : what + ": " + reasons);
}

UniqueBio memory_bio(std::string_view text) {
  UniqueBio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) fail("out of memory");
  return bio;
}

UniqueContext new_context(const SSL_METHOD* method) {
  UniqueContext context(SSL_CTX_new(method));
  if (!context) fail("cannot create a TLS context");
  SSL_CTX* ctx = context.get();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS_LIST, 0, const_cast<char*>(kGroups)) != 1) {
    fail("cannot set the TLS protocol settings");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_ENABLE_KTLS);
  // Output is written from a queue that may be compacted (moved) between retries and that
  // takes any number of bytes per write; idle connections give their buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  return context;
}

}  // namespace

bool kernel_offers_tls() {
  std::ifstream available("/proc/sys/net/ipv4/tcp_available_ulp");
  std::string name;
  while (available >> name) {
    if (name == "tls") return true;
  }
  return false;
}

std::string take_tls_errors() {
  std::string reasons;
  while (const unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (reason == nullptr) continue;
    if (!reasons.empty()) reasons += "; ";
    reasons += reason;
  }
  return reasons;
}

TlsContext TlsContext::for_server(std::string_view certificate_chain_pem,
                                  std::string_view private_key_pem) {
  ERR_clear_error();
  UniqueContext context = new_context(TLS_server_method());
  SSL_CTX* ctx = context.get();
  SSL_CTX_set_dh_auto(ctx, 1);
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);

  UniqueBio chain = memory_bio(certificate_chain_pem);
  UniqueX509 leaf(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
  if (!leaf) fail("the certificate is not a PEM certificate");
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) fail("the certificate cannot be used");
  for (;;) {
    UniqueX509 intermediate(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
    if (!intermediate) break;
    if (SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 0, intermediate.get()) != 1) {
      fail("the certificate chain cannot be used");
    }
    (void)intermediate.release();  // the context owns it now
  }
  ERR_clear_error();  // the end of the chain reads as "no start line"

  UniqueBio key_text = memory_bio(private_key_pem);
  // No passphrase callback: an encrypted key is refused rather than prompted for.
  UniqueKey key(PEM_read_bio_PrivateKey(
      key_text.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) {
    ERR_clear_error();  // the reasons could quote the text that was read
    throw TlsSetupError("the private key is not an unencrypted PEM key");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    throw TlsSetupError("the private key does not match the certificate");
  }
  return TlsContext(context.release(), true);
}

TlsContext TlsContext::for_client(const std::string& ca_file) {
  ERR_clear_error();
  UniqueContext context = new_context(TLS_client_method());
  SSL_CTX* ctx = context.get();
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) fail("cannot load the system's CA store");
  } else if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    fail("cannot load CA file " + ca_file);
  }
  return TlsContext(context.release(), false);
}

TlsContext::TlsContext(TlsContext&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)), is_server_(other.is_server_) {}

TlsContext& TlsContext::operator=(TlsContext&& other) noexcept {
  if (this != &other) {
    SSL_CTX_free(context_);
    context_ = std::exchange(other.context_, nullptr);
    is_server_ = other.is_server_;
  }
  return *this;
}

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

std::string TlsContext::certificate_summary() const {
  X509* certificate = context_ != nullptr ? SSL_CTX_get0_certificate(context_) : nullptr;
  if (certificate == nullptr) return "no certificate";
  std::string summary;
  UniqueBio out(BIO_new(BIO_s_mem()));
  if (!out) return "certificate";
  X509_NAME_print_ex(out.get(), X509_get_subject_name(certificate), 0, XN_FLAG_ONELINE);
  BIO_puts(out.get(), ", expires ");
  ASN1_TIME_print(out.get(), X509_get0_notAfter(certificate));
  char* text = nullptr;
  const long length = BIO_ctrl(out.get(), BIO_CTRL_INFO, 0, &text);
  if (text != nullptr && length > 0) summary.assign(text, static_cast<std::size_t>(length));
  return summary;
}

}  // namespace epollchat
