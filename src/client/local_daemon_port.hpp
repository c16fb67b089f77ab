// Which port the local epollchatd listens on, for `epollchat` run without arguments.
//
// The daemon's configuration files say, when they set `port` and we may read them; otherwise
// the daemon's built-in default, 8888, applies to both. Never throws: a file that cannot
// be read or understood only means the default.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace epollchat::client {

inline constexpr std::uint16_t kDefaultPort = 8888;

// The value of the last uncommented `port = N` line of epollchatd.conf text, if it is
// 1..65535 (0, "the kernel chooses", cannot be found from here).
[[nodiscard]] std::optional<std::uint16_t> port_in_config(std::string_view text);

// The last port_in_config() of the file at `config_path` and of the *.conf files of the
// conf.d directory beside it, taken in name order as the daemon reads them; else
// kDefaultPort.
[[nodiscard]] std::uint16_t local_daemon_port(const char* config_path);

}  // namespace epollchat::client
