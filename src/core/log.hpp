// Log: the daemon's log lines on stderr. When stderr is the journal, each record carries the
// sd-daemon "<N>" priority prefix that journald turns into the record's priority; on a
// terminal or in a file the lines are plain.
//
// Owns: the current level. Writes each record with one write(2), so records from a
// process never interleave mid-line. Never used on the per-message path.
// The format is the process's, like stderr itself: decided once at start (set_format).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace epollchat {

// syslog(3) priorities, in order.
enum class LogLevel { emerg, alert, crit, err, warning, notice, info, debug };

[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

// How records reach stderr: plain lines, or with the "<N>" prefix journald reads.
enum class LogFormat { plain, journal };

// Whether `journal_stream`, systemd's $JOURNAL_STREAM ("DEVICE:INODE", both decimal), names
// the file with this device and inode. systemd.exec(5): the variable alone proves nothing,
// since a service may hand its stderr to something else and keep the environment.
[[nodiscard]] bool names_stream(std::string_view journal_stream, dev_t device,
                                ino_t inode) noexcept;

// journal if `journal_stream` (the value of $JOURNAL_STREAM, or null) names the file that
// stderr is open on, plain otherwise.
[[nodiscard]] LogFormat stderr_log_format(const char* journal_stream) noexcept;

class Log {
 public:
  explicit Log(LogLevel level = LogLevel::info) noexcept : level_(level) {}

  // For every Log of the process; plain until set.
  static void set_format(LogFormat format) noexcept { format_ = format; }
  [[nodiscard]] static LogFormat format() noexcept { return format_; }

  void set_level(LogLevel level) noexcept { level_ = level; }
  [[nodiscard]] bool is_enabled(LogLevel level) const noexcept { return level <= level_; }

  void write(LogLevel level, std::string_view message) const noexcept;
  void error(std::string_view message) const noexcept { write(LogLevel::err, message); }
  void warning(std::string_view message) const noexcept { write(LogLevel::warning, message); }
  void notice(std::string_view message) const noexcept { write(LogLevel::notice, message); }
  void info(std::string_view message) const noexcept { write(LogLevel::info, message); }
  void debug(std::string_view message) const noexcept { write(LogLevel::debug, message); }

 private:
  static inline LogFormat format_ = LogFormat::plain;
  LogLevel level_;
};

}  // namespace epollchat
