// The TLS listener's certificate chain and private key: where they are read from, and the
// server context made of them.
//
// Like the Redis password, the key is never taken from the command line and never logged.
// Under systemd the natural source is a pair of credentials (`LoadCredential=tls-cert:...`,
// `LoadCredential=tls-key:...` in a drop-in): systemd reads the files as root and hands this
// service private copies in $CREDENTIALS_DIRECTORY, so the key file may stay readable by
// root alone. They are used for whichever of tls-cert and tls-key is not configured.
#pragma once

#include <cstddef>
#include <string>

#include "core/tls_context.hpp"
#include "daemon/settings.hpp"

namespace epollchat::daemon {

inline constexpr std::size_t kMaxTlsFileSize = 1024 * 1024;

// Reads the certificate chain and key and builds the server's context. Throws ConfigError
// when a file cannot be read, is not PEM, or the key does not match the certificate; the
// message names the file and the reason, never the key's contents.
[[nodiscard]] TlsContext load_tls_context(const Settings& settings);

}  // namespace epollchat::daemon
