#include "support/output_capture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace epollchat::test {

OutputCapture::OutputCapture() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  read_end_.reset(ends[0]);
  write_end_.reset(ends[1]);
  stop_.reset(::eventfd(0, EFD_CLOEXEC));
  if (!stop_) throw std::system_error(errno, std::generic_category(), "eventfd");
  reader_ = std::thread([this] { run(); });
}

OutputCapture::~OutputCapture() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_.get(), &one, sizeof one);
  reader_.join();
}

void OutputCapture::run() {
  std::array<char, 8192> buffer;
  for (;;) {
    std::array<pollfd, 2> fds{{{read_end_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;
    const ssize_t got = ::read(read_end_.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    const std::lock_guard lock(mutex_);
    text_.append(buffer.data(), static_cast<std::size_t>(got));
    changed_.notify_all();
  }
  const std::lock_guard lock(mutex_);
  eof_ = true;
  changed_.notify_all();
}

std::string OutputCapture::text() const {
  const std::lock_guard lock(mutex_);
  return text_;
}

bool OutputCapture::wait_for(std::string_view needle, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return eof_ || text_.find(needle) != std::string::npos; });
  return text_.find(needle) != std::string::npos;
}

bool OutputCapture::wait_for_eof(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return eof_; });
}

}  // namespace epollchat::test
