#include "client/write_all.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace epollchat::client {

int write_all(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(written));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // O_NONBLOCK lives in the open file description, which a shell or terminal may
      // share with other programs; we wait rather than change it under them.
      pollfd wait_for{fd, POLLOUT, 0};
      if (::poll(&wait_for, 1, -1) < 0 && errno != EINTR) return errno;
      continue;
    }
    return errno;
  }
  return 0;
}

}  // namespace epollchat::client
