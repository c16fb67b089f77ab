#include "core/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
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

namespace {

// One decimal field of "DEVICE:INODE": digits only, no sign, no spaces, no overflow.
template <typename Number>
bool parse_decimal(std::string_view text, Number& value) noexcept {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

bool names_stream(std::string_view journal_stream, dev_t device, ino_t inode) noexcept {
  const auto colon = journal_stream.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long named_device = 0;
  unsigned long long named_inode = 0;
  return parse_decimal(journal_stream.substr(0, colon), named_device) &&
         parse_decimal(journal_stream.substr(colon + 1), named_inode) &&
         named_device == static_cast<unsigned long long>(device) &&
         named_inode == static_cast<unsigned long long>(inode);
}

LogFormat stderr_log_format(const char* journal_stream) noexcept {
  if (journal_stream == nullptr) return LogFormat::plain;
  struct stat info {};
  if (fstat(STDERR_FILENO, &info) != 0) return LogFormat::plain;
  return names_stream(journal_stream, info.st_dev, info.st_ino) ? LogFormat::journal
                                                                : LogFormat::plain;
}

void Log::write(LogLevel level, std::string_view message) const noexcept {
  if (!is_enabled(level)) return;
  try {
    std::string record;
    if (format_ == LogFormat::journal) {
      // journald reads a prefix per line: a line of its own without one would be logged
      // at the stream's default priority.
      char prefix[8];
      const int length = std::snprintf(prefix, sizeof prefix, "<%d>", static_cast<int>(level));
      const std::string_view priority(prefix, static_cast<std::size_t>(length));
      for (std::string_view rest = message;;) {
        const auto newline = rest.find('\n');
        record.append(priority).append(rest.substr(0, newline)).push_back('\n');
        if (newline == std::string_view::npos) break;
        rest.remove_prefix(newline + 1);
      }
    } else {
      record.append(message).push_back('\n');
    }
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
