#include "daemon/redis_password.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "daemon/config_file.hpp"
#include "daemon/small_file.hpp"

namespace epollchat::daemon {

std::string read_redis_password(const std::string& path) {
  const std::string what = "redis password file " + path;
  std::string contents;
  if (const int error = read_small_file(path, kMaxRedisPasswordSize, contents); error != 0) {
    throw ConfigError("cannot read " + what + ": " + std::strerror(error));
  }
  // One line; its ending (LF or CRLF) is not part of the password.
  std::string_view password = contents;
  if (password.ends_with('\n')) password.remove_suffix(1);
  if (password.ends_with('\r')) password.remove_suffix(1);
  if (password.empty()) throw ConfigError(what + " is empty");
  if (password.find_first_of("\r\n") != std::string_view::npos) {
    throw ConfigError(what + " holds more than one line");
  }
  return std::string(password);
}

std::string redis_password_credential_path() {
  const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
  if (directory == nullptr || *directory == '\0') return {};
  std::string path = std::string(directory) + "/redis-password";
  return access(path.c_str(), F_OK) == 0 ? path : std::string();
}

}  // namespace epollchat::daemon
