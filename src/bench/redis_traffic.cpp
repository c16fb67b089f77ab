#include "bench/redis_traffic.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace epollchat::bench {
namespace {

// The number after `key` (`key:123` or `key=123`) in an INFO reply, or nullopt.
std::optional<std::uint64_t> info_number(std::string_view info, std::string_view key) {
  std::size_t at = 0;
  while ((at = info.find(key, at)) != std::string_view::npos) {
    const bool starts_line = at == 0 || info[at - 1] == '\n' || info[at - 1] == ',';
    at += key.size();
    if (!starts_line) continue;
    std::uint64_t value = 0;
    const char* end = info.data() + info.size();
    if (const auto [ptr, error] = std::from_chars(info.data() + at, end, value);
        error == std::errc{})
      return value;
  }
  return std::nullopt;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads one RESP bulk string reply (`$LEN\r\n` LEN bytes `\r\n`) into `body`.
bool read_bulk(int fd, std::string& body) {
  std::string in;
  char buffer[16384];
  for (;;) {
    if (const auto eol = in.find("\r\n"); eol != std::string::npos) {
      if (in[0] != '$') return false;
      std::size_t length = 0;
      const auto [ptr, error] = std::from_chars(in.data() + 1, in.data() + eol, length);
      if (error != std::errc{} || ptr != in.data() + eol) return false;
      if (in.size() >= eol + 2 + length) {
        body = in.substr(eol + 2, length);
        return true;
      }
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // closed, an error, or SO_RCVTIMEO ran out
    in.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::optional<RedisTraffic> read_redis_traffic(const sockaddr* address, socklen_t length,
                                               double timeout_s) {
  UniqueFd fd(::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return std::nullopt;
  timeval timeout{};
  timeout.tv_sec = static_cast<time_t>(timeout_s);
  timeout.tv_usec =
      static_cast<suseconds_t>((timeout_s - static_cast<double>(timeout.tv_sec)) * 1e6);
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd.get(), address, length) != 0) return std::nullopt;
  std::string info;
  if (!send_all(fd.get(), "*2\r\n$4\r\nINFO\r\n$3\r\nall\r\n") || !read_bulk(fd.get(), info))
    return std::nullopt;
  const auto input = info_number(info, "total_net_input_bytes:");
  const auto output = info_number(info, "total_net_output_bytes:");
  if (!input || !output) return std::nullopt;
  return RedisTraffic{*input, *output, info_number(info, "cmdstat_publish:calls=").value_or(0)};
}

}  // namespace epollchat::bench
