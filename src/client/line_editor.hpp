// LineEditor: the keyboard child's loop when standard input and output are terminals.
//
// The child owns the terminal both ways. It edits the input line with libedit (keys,
// history, Tab completion) and sends each finished line to the parent on the typed-lines
// pipe; and it prints what the parent hands it on the display pipe (editor_records.hpp)
// above the input line, erasing the half-typed line first and redrawing it intact after.
// Reading the keyboard and the display pipe in one poll() (libedit's EL_GETCFN hook) is
// what lets a chat line arrive in the middle of typing without breaking the line.
//
// Unlike the plain reader, this child allocates (libedit does): that is safe because the
// parent is single-threaded, so no lock can be held across the fork().
//
// The terminal is restored on every way out: the input ends (Ctrl-D, `exit`, `/quit`) and
// the display pipe reaches EOF (the parent is done), SIGTERM or SIGHUP (the parent asked,
// or died: PR_SET_PDEATHSIG), or the typed-lines pipe closing under it. SIGWINCH redraws
// at the new width. SIGINT is left to the parent (see StdinReader).
#pragma once

#include <string>
#include <string_view>

namespace epollchat::client {

// Runs in the forked child. `typed_fd` receives each line with LF; `display_fd` is read
// until EOF. `colours`: the prompt is drawn in bold (so one's own lines stand out).
[[noreturn]] void run_line_editor(int typed_fd, int display_fd, bool colours) noexcept;

// What Tab does to `before_cursor`: the text to insert (may be empty), and when that is
// ambiguous, the candidates to list. Commands complete as the first word, nicknames
// anywhere else (and after /msg). Pure, for the unit tests.
struct Completion {
  std::string insert;
  std::string candidates;  // Space-separated; empty when `insert` completed the word.
};
[[nodiscard]] Completion complete_word(std::string_view before_cursor, std::string_view nicknames);

}  // namespace epollchat::client
