#include "client/local_daemon_port.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "client/server_address.hpp"

namespace epollchat::client {
namespace {

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r";
  const std::size_t first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

// port_in_config() of a file that may be absent or unreadable.
std::optional<std::uint16_t> port_in_file(const char* path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return port_in_config(text.str());
}

}  // namespace

std::optional<std::uint16_t> port_in_config(std::string_view text) {
  std::optional<std::uint16_t> port;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = trimmed(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos || trimmed(line.substr(0, equals)) != "port") continue;
    // A later line overrides an earlier one, as when the daemon reads the file.
    port = parse_port(trimmed(line.substr(equals + 1)));
  }
  return port;
}

std::uint16_t local_daemon_port(const char* config_path) {
  namespace fs = std::filesystem;
  // The daemon reads the *.conf files of conf.d beside its file after it, by name.
  const fs::path directory = fs::path(config_path).parent_path() / "conf.d";
  std::vector<std::string> dropins;
  std::error_code error;
  for (fs::directory_iterator entry(directory, error); !error && entry != fs::directory_iterator();
       entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (name.size() > 5 && name.ends_with(".conf") && !name.starts_with('.')) {
      dropins.push_back(entry->path().string());
    }
  }
  std::sort(dropins.begin(), dropins.end());
  std::optional<std::uint16_t> port = port_in_file(config_path);
  for (const std::string& path : dropins) {
    if (const auto found = port_in_file(path.c_str())) port = found;
  }
  return port.value_or(kDefaultPort);
}

}  // namespace epollchat::client
