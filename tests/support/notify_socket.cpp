#include "support/notify_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <random>
#include <system_error>

namespace epollchat::test {
namespace {

std::string unique_abstract_name() {
  static std::atomic<unsigned> counter{0};
  std::random_device entropy;
  return "epollchat-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(entropy());
}

}  // namespace

bool NotifyMessage::has(std::string_view assignment) const {
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    if (rest.substr(0, end) == assignment) return true;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return false;
}

std::optional<std::string> NotifyMessage::field(std::string_view key) const {
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const auto line = rest.substr(0, end);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=') {
      return std::string(line.substr(key.size() + 1));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return std::nullopt;
}

NotifySocket::NotifySocket() {
  fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd_) throw std::system_error(errno, std::generic_category(), "socket AF_UNIX");
  const std::string name = unique_abstract_name();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // Abstract namespace: a leading NUL, then the name; the length excludes any terminator.
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    throw std::system_error(errno, std::generic_category(), "bind @" + name);
  }
  address_ = "@" + name;
}

std::optional<NotifyMessage> NotifySocket::receive(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    char buffer[8192];
    const ssize_t got = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (got >= 0) {
      history_.push_back({std::string(buffer, static_cast<std::size_t>(got)), Clock::now()});
      return history_.back();
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw std::system_error(errno, std::generic_category(), "recv notify");
    pollfd entry{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&entry, 1, deadline.poll_timeout());
    if (ready < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "poll notify");
    }
    if (ready == 0) return std::nullopt;
  }
}

std::optional<NotifyMessage> NotifySocket::wait_for(
    const std::function<bool(const NotifyMessage&)>& matches, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    auto message = receive(deadline.remaining());
    if (!message) return std::nullopt;
    if (matches(*message)) return message;
  }
}

std::optional<NotifyMessage> NotifySocket::wait_for(std::string_view assignment,
                                                    std::chrono::milliseconds timeout) {
  return wait_for([&](const NotifyMessage& message) { return message.has(assignment); }, timeout);
}

}  // namespace epollchat::test
