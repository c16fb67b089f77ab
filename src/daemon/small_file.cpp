#include "daemon/small_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/unique_fd.hpp"

namespace epollchat::daemon {

int read_small_file(const std::string& path, std::size_t max_size, std::string& contents) {
  contents.clear();
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno;
  struct stat info {};
  if (fstat(fd.get(), &info) != 0) return errno;
  if (S_ISDIR(info.st_mode)) return EISDIR;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    contents.append(buffer, static_cast<std::size_t>(n));
    if (contents.size() > max_size) return EFBIG;
  }
}

}  // namespace epollchat::daemon
