#include "daemon/tls_credentials.hpp"

#include <openssl/crypto.h>

#include <unistd.h>
#include <cstdlib>
#include <cstring>

#include "daemon/config_file.hpp"
#include "daemon/small_file.hpp"

namespace epollchat::daemon {
namespace {

// The configured path, else the systemd credential's, else "".
std::string tls_file_path(const std::string& configured, const char* credential) {
  if (!configured.empty()) return configured;
  const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
  if (directory == nullptr || *directory == '\0') return {};
  std::string path = std::string(directory) + "/" + credential;
  return access(path.c_str(), F_OK) == 0 ? path : std::string();
}

// Overwrites the text before its memory is freed, so a key leaves no copy behind.
class Scrubbed {
 public:
  ~Scrubbed() { OPENSSL_cleanse(text.data(), text.size()); }
  std::string text;
};

void read_tls_file(const std::string& path, const char* what, std::string& contents) {
  // Room for the largest file read, so that growing leaves no copy in freed memory.
  contents.reserve(kMaxTlsFileSize + 4096);
  if (const int error = read_small_file(path, kMaxTlsFileSize, contents); error != 0) {
    throw ConfigError(std::string("cannot read ") + what + " " + path + ": " +
                      std::strerror(error));
  }
}

}  // namespace

TlsContext load_tls_context(const Settings& settings) {
  const std::string cert_path = tls_file_path(settings.tls_cert_file, "tls-cert");
  const std::string key_path = tls_file_path(settings.tls_key_file, "tls-key");
  if (cert_path.empty() || key_path.empty()) {
    throw ConfigError(
        "TLS needs a certificate and a key: set tls-cert and tls-key, or give the service the "
        "credentials tls-cert and tls-key");
  }
  Scrubbed certificate;
  Scrubbed key;
  read_tls_file(cert_path, "TLS certificate file", certificate.text);
  read_tls_file(key_path, "TLS key file", key.text);
  try {
    return TlsContext::for_server(certificate.text, key.text);
  } catch (const TlsSetupError& failure) {
    throw ConfigError("TLS certificate " + cert_path + " and key " + key_path + ": " +
                      failure.what());
  }
}

}  // namespace epollchat::daemon
