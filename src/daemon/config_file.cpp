#include "daemon/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.hpp"

namespace epollchat::daemon {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\f\v";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::string shorten(std::string_view text) {
  constexpr std::size_t kShown = 60;
  return text.size() <= kShown ? std::string(text) : std::string(text.substr(0, kShown)) + "...";
}

}  // namespace

void apply_config_text(Settings& settings, std::string_view text, std::string_view file_name) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    const std::string_view raw = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);

    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;

    const auto fail = [&](const std::string& problem) {
      throw ConfigError(std::string(file_name) + ":" + std::to_string(line_number) + ": " +
                        problem);
    };
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      fail("expected 'key = value', got '" + shorten(line) + "'");
    }
    const std::string_view key = trim(line.substr(0, equals));
    const std::string_view value = trim(line.substr(equals + 1));
    if (key.empty()) fail("missing key before '='");
    if (!is_setting_key(key)) fail("unknown key '" + shorten(key) + "'");
    if (value.empty()) fail("missing value for key '" + std::string(key) + "'");
    if (const auto problem = apply_setting(settings, key, value)) {
      fail("key '" + std::string(key) + "': " + *problem);
    }
  }
}

void apply_config_file(Settings& settings, const std::string& path) {
  const auto fail = [&](int error) {
    throw ConfigError("cannot read config file " + path + ": " + std::strerror(error));
  };
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail(errno);
  // open() succeeds on a directory; reading it would fail with EISDIR, which a stream
  // reports as an empty file.
  struct stat info {};
  if (fstat(fd.get(), &info) != 0) fail(errno);
  if (S_ISDIR(info.st_mode)) fail(EISDIR);

  // A config file is a few hundred bytes; anything past this is not one.
  constexpr std::size_t kMaxConfigSize = 1024 * 1024;
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno);
    if (n == 0) break;
    contents.append(buffer, static_cast<std::size_t>(n));
    if (contents.size() > kMaxConfigSize) fail(EFBIG);
  }
  apply_config_text(settings, contents, path);
}

Settings load_settings(const CommandLine& command_line, const std::string& default_config_path) {
  Settings settings;
  if (command_line.config_path) {
    apply_config_file(settings, *command_line.config_path);
  } else {
    struct stat info {};
    // Only an absent default file is skipped; one that exists but cannot be read is an error.
    if (stat(default_config_path.c_str(), &info) == 0 || errno != ENOENT) {
      apply_config_file(settings, default_config_path);
    }
  }
  for (const auto& [key, value] : command_line.settings) {
    // Validated by parse_command_line already.
    (void)apply_setting(settings, key, value);
  }
  if (const auto problem = check_consistency(settings)) throw ConfigError(*problem);
  return settings;
}

}  // namespace epollchat::daemon
