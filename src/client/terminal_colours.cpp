#include "client/terminal_colours.hpp"

#include <curses.h>
#include <term.h>

#include <cstdlib>

namespace epollchat::client {

bool terminal_has_colours(int fd) noexcept {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  int error = 0;
  // A missing or unknown TERM is an error here (error is set), never an exit: setupterm
  // only exits when it is not given somewhere to report.
  if (setupterm(nullptr, fd, &error) != OK) return false;
  constexpr int kFewestColours = 8;
  const int colours = tigetnum(const_cast<char*>("colors"));
  (void)del_curterm(cur_term);
  return colours >= kFewestColours;
}

}  // namespace epollchat::client
