#include "client/local_daemon_port.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include "client/server_address.hpp"

namespace epollchat::client {
namespace {

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r";
  const std::size_t first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
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
  std::ifstream file(config_path);
  if (!file) return kDefaultPort;
  std::ostringstream text;
  text << file.rdbuf();
  return port_in_config(text.str()).value_or(kDefaultPort);
}

}  // namespace epollchat::client
