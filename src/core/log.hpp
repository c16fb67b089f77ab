// Log: the daemon's log lines on stderr, with the sd-daemon "<N>" priority prefix that
// journald turns into the record's priority.
//
// Owns: the current level. Writes each record with one write(2), so records from a
// process never interleave mid-line. Never used on the per-message path.
#pragma once

#include <optional>
#include <string_view>

namespace epollchat {

// syslog(3) priorities, in order.
enum class LogLevel { emerg, alert, crit, err, warning, notice, info, debug };

[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

class Log {
 public:
  explicit Log(LogLevel level = LogLevel::info) noexcept : level_(level) {}

  void set_level(LogLevel level) noexcept { level_ = level; }
  [[nodiscard]] bool is_enabled(LogLevel level) const noexcept { return level <= level_; }

  void write(LogLevel level, std::string_view message) const noexcept;
  void error(std::string_view message) const noexcept { write(LogLevel::err, message); }
  void warning(std::string_view message) const noexcept { write(LogLevel::warning, message); }
  void notice(std::string_view message) const noexcept { write(LogLevel::notice, message); }
  void info(std::string_view message) const noexcept { write(LogLevel::info, message); }
  void debug(std::string_view message) const noexcept { write(LogLevel::debug, message); }

 private:
  LogLevel level_;
};

}  // namespace epollchat
