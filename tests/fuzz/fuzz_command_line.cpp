// libFuzzer target: the command-line parser, with the input split into arguments at NUL
// bytes. It either returns a result or throws UsageError; nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "daemon/command_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> args;
  while (!input.empty()) {
    const auto nul = input.find('\0');
    args.push_back(input.substr(0, nul));
    if (nul == std::string_view::npos) break;
    input.remove_prefix(nul + 1);
  }
  try {
    (void)epollchat::daemon::parse_command_line(args);
  } catch (const epollchat::daemon::UsageError&) {
  }
  return 0;
}
