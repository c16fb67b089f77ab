#include "core/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace epollchat {

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  static constexpr std::string_view kNames[] = {"emerg",   "alert",  "crit", "err",
                                                "warning", "notice", "info", "debug"};
  for (std::size_t i = 0; i < std::size(kNames); ++i) {
    if (name == kNames[i] || (name.size() == 1 && name[0] == static_cast<char>('0' + i))) {
      return static_cast<LogLevel>(i);
    }
  }
  return std::nullopt;
}

void Log::write(LogLevel level, std::string_view message) const noexcept {
  if (!is_enabled(level)) return;
  try {
    char prefix[8];
    const int prefix_length = std::snprintf(prefix, sizeof prefix, "<%d>", static_cast<int>(level));
    std::string record(prefix, static_cast<std::size_t>(prefix_length));
    record.append(message).push_back('\n');
    std::string_view rest = record;
    while (!rest.empty()) {
      const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // Nowhere to report a failing log; the service goes on.
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  } catch (...) {
    // Out of memory while logging: drop the record rather than the process.
  }
}

}  // namespace epollchat
