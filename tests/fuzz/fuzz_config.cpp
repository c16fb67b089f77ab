// libFuzzer target: the config file parser. Any text either applies cleanly or throws
// ConfigError whose every problem names a line; nothing else may escape, and what it
// accepts is in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  epollchat::daemon::Settings settings;
  try {
    epollchat::daemon::apply_config_text(settings, text, "fuzz.conf");
  } catch (const epollchat::daemon::ConfigError& error) {
    if (error.problems().empty()) std::abort();
    for (const std::string& problem : error.problems()) {
      if (!problem.starts_with("fuzz.conf:")) std::abort();
    }
    return 0;
  }
  if (settings.max_clients < 1 || settings.max_line < 1 || settings.max_backlog < 1024) {
    std::abort();
  }
  return 0;
}
