// Throw-away TLS certificates for tests, made in memory with OpenSSL: a self-signed P-256
// certificate for "localhost", 127.0.0.1 and ::1, valid for a day, and its key. Each call
// makes a new key pair, so two certificates never verify each other. CertificateFiles writes
// one to files for the daemon, with a client context that trusts it.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/tls_context.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {

struct TestCertificate {
  std::string certificate_pem;
  std::string key_pem;
};

namespace certificate_detail {

struct Free {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
  void operator()(X509_EXTENSION* extension) const noexcept { X509_EXTENSION_free(extension); }
};

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("making a test certificate: ") + what);
}

inline std::string pem_of(const std::unique_ptr<BIO, Free>& bio) {
  char* data = nullptr;
  const long length = BIO_ctrl(bio.get(), BIO_CTRL_INFO, 0, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace certificate_detail

inline TestCertificate make_test_certificate(const std::string& common_name = "localhost") {
  using certificate_detail::check;
  using certificate_detail::Free;
  std::unique_ptr<EVP_PKEY, Free> key(EVP_EC_gen("P-256"));
  check(key != nullptr, "key");
  std::unique_ptr<X509, Free> certificate(X509_new());
  check(certificate != nullptr, "certificate");
  X509* cert = certificate.get();
  check(X509_set_version(cert, 2) == 1, "version");
  ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(std::rand()) + 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 60 * 60);
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1,
        "name");
  check(X509_set_issuer_name(cert, name) == 1, "issuer");
  check(X509_set_pubkey(cert, key.get()) == 1, "public key");
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
        std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    std::unique_ptr<X509_EXTENSION, Free> extension(
        X509V3_EXT_conf_nid(nullptr, &context, nid, value));
    check(extension != nullptr && X509_add_ext(cert, extension.get(), -1) == 1, "extension");
  }
  check(X509_sign(cert, key.get(), EVP_sha256()) > 0, "signature");

  std::unique_ptr<BIO, Free> certificate_out(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, Free> key_out(BIO_new(BIO_s_mem()));
  check(certificate_out && key_out, "memory");
  check(PEM_write_bio_X509(certificate_out.get(), cert) == 1, "certificate PEM");
  check(PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
            1,
        "key PEM");
  return {certificate_detail::pem_of(certificate_out), certificate_detail::pem_of(key_out)};
}

// A certificate and key written to files in `dir` (PREFIX-cert.pem, PREFIX-key.pem), and a
// client context that trusts it.
struct CertificateFiles {
  CertificateFiles(const TempDir& dir, const std::string& prefix)
      : pair(make_test_certificate()),
        certificate(dir.write(prefix + "-cert.pem", pair.certificate_pem)),
        key(dir.write(prefix + "-key.pem", pair.key_pem)),
        trusted_by(TlsContext::for_client(certificate.string())) {}

  TestCertificate pair;
  std::filesystem::path certificate;
  std::filesystem::path key;
  TlsContext trusted_by;
};

// The daemon's arguments for a TLS listener on a port the kernel chooses, with `files`.
inline std::vector<std::string> tls_args(const CertificateFiles& files) {
  return {"--tls-port",      "0", "--tls-cert", files.certificate.string(), "--tls-key",
          files.key.string()};
}

}  // namespace epollchat::test
