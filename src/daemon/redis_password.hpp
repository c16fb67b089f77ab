// The password epollchatd gives Redis (AUTH) when Redis requires one.
//
// It is read from a file, never taken from the command line or the config file, so it shows
// neither in `ps` nor in a world-readable /etc file, and it is never logged. Under systemd
// the natural source is a credential: `LoadCredential=redis-password:/etc/...` in a drop-in
// puts a copy only this service can read at $CREDENTIALS_DIRECTORY/redis-password, which is
// used when no redis-password-file is configured.
#pragma once

#include <string>

namespace epollchat::daemon {

// The file's first line, without its line ending. Throws ConfigError if the file cannot be
// read, is empty, or holds more than one line or more than kMaxRedisPasswordSize bytes.
[[nodiscard]] std::string read_redis_password(const std::string& path);
inline constexpr std::size_t kMaxRedisPasswordSize = 4096;

// "$CREDENTIALS_DIRECTORY/redis-password" if systemd passed that credential, else "".
[[nodiscard]] std::string redis_password_credential_path();

}  // namespace epollchat::daemon
