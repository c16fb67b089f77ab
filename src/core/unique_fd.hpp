// UniqueFd: sole owner of one file descriptor.
//
// Owns: exactly one fd (or none, -1). Its destructor and reset() are the only places in
// the project that call close(). Never copied; moving transfers ownership.
// Lifetime: the fd lives exactly as long as the UniqueFd that holds it.
#pragma once

#include <unistd.h>

#include <utility>

namespace epollchat {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  // Takes ownership of `fd`; -1 means "no fd".
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return is_open(); }

  // Gives up ownership without closing; the caller now owns the fd.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the current fd (if any) and takes ownership of `fd`. close() is not retried on
  // EINTR: on Linux the descriptor is released even then, and a retry could close an fd
  // another part of the program has just been given.
  void reset(int fd = -1) noexcept {
    const int old = std::exchange(fd_, fd);
    if (old >= 0) ::close(old);
  }

 private:
  int fd_ = -1;
};

}  // namespace epollchat
