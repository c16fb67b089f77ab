#include "client/saved_terminal_mode.hpp"

#include <cerrno>

namespace epollchat::client {

SavedTerminalMode::SavedTerminalMode(int fd) noexcept : fd_(fd) {
  saved_ = ::tcgetattr(fd_, &mode_) == 0;
}

SavedTerminalMode::~SavedTerminalMode() {
  if (!saved_) return;
  while (::tcsetattr(fd_, TCSADRAIN, &mode_) != 0 && errno == EINTR) {
  }
}

}  // namespace epollchat::client
