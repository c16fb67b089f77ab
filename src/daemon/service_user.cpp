#include "daemon/service_user.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace epollchat::daemon {
namespace {

// systemd's range for DynamicUser= (docs: UIDS-GIDS.md, "Special systemd UID ranges").
constexpr uid_t kFirstDynamicUid = 61184;
constexpr uid_t kLastDynamicUid = 65519;

}  // namespace

bool runs_as_dynamic_user() noexcept {
  const uid_t uid = geteuid();
  return uid >= kFirstDynamicUid && uid <= kLastDynamicUid;
}

std::string redis_password_file_unreadable_by_service(const std::string& path) {
  return "redis-password-file " + path +
         ": the service user cannot read it (the service runs as a dynamic user); use the "
         "credential redis-password instead (LoadCredential=redis-password:" +
         path + "), see epollchatd(8)";
}

std::optional<std::string> redis_password_file_hidden_from_service(const std::string& path) {
  if (runs_as_dynamic_user()) {
    if (access(path.c_str(), R_OK) != 0 && errno == EACCES) {
      return redis_password_file_unreadable_by_service(path);
    }
    return std::nullopt;
  }
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  if ((info.st_mode & S_IROTH) != 0) return std::nullopt;
  return redis_password_file_unreadable_by_service(path);
}

}  // namespace epollchat::daemon
