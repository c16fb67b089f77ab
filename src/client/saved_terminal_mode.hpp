// SavedTerminalMode: the terminal's settings as they were when the client started, put
// back when the client ends.
//
// The line-editing child restores the terminal itself on every way out it sees; this is
// the parent's guarantee for the ways it cannot see (it was killed with SIGKILL, or died
// before its signalfd was read). Declared before the StdinReader in main, so it is
// destroyed after the child has been reaped and cannot race the child's own restore.
//
// Owns: a copy of the termios of `fd` (nothing if `fd` is not a terminal). Never throws.
#pragma once

#include <termios.h>

namespace epollchat::client {

class SavedTerminalMode {
 public:
  explicit SavedTerminalMode(int fd) noexcept;
  SavedTerminalMode(const SavedTerminalMode&) = delete;
  SavedTerminalMode& operator=(const SavedTerminalMode&) = delete;
  ~SavedTerminalMode();

 private:
  int fd_;
  bool saved_ = false;
  termios mode_{};
};

}  // namespace epollchat::client
