// Whether the client may colour what it shows.
//
// Only where the terminal can show colours, as its terminfo entry says (TERM names it;
// "colors" is at least 8), and where the user has not asked for none (https://no-color.org:
// NO_COLOR set to anything non-empty). The terminfo lookup lives in its own file because
// <term.h> defines macros named like ordinary words (lines, columns, bell).
#pragma once

namespace epollchat::client {

// Reads the environment and the terminfo database for the terminal on `fd`. Never throws,
// never prints.
[[nodiscard]] bool terminal_has_colours(int fd) noexcept;

}  // namespace epollchat::client
