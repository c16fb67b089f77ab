// Display: where the parent puts what the user should see.
//
// Plainly (standard input or output is not a terminal) every line goes to standard output
// as it is, so scripts see exactly what they saw before line editing existed. Through the
// line editor (both are terminals) the parent never writes to the terminal itself: it hands
// records to the editing child over a pipe (see editor_records.hpp), and the child prints
// them above the line being typed and redraws that line.
//
// Every server line is made safe to display (terminal_text.hpp) before any colour is added,
// so the only escape sequences that reach the terminal are the ones chosen here.
//
// Owns: the pending bytes. Borrows the fd (standard output, or the pipe's write end owned
// by the StdinReader). Throws std::system_error when the fd fails.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace epollchat::client {

class Display {
 public:
  static Display plain(int fd) { return Display(fd, false, false); }
  static Display through_editor(int pipe_fd, bool colours) {
    return Display(pipe_fd, true, colours);
  }

  [[nodiscard]] bool is_interactive() const noexcept { return editor_; }

  // A line as the server sent it (without LF).
  void add_server_line(std::string_view line);
  // The client's own notice, "*** ..." without LF.
  void add_notice(std::string_view text);
  // Only through the editor; ignored plainly.
  void set_prompt(std::string_view prompt);
  void set_completions(const std::vector<std::string>& nicknames);

  // Writes what is pending. Through the editor, a child that has already gone (EPIPE) is
  // not an error: the user has left and nothing more can be shown.
  void flush();

 private:
  Display(int fd, bool editor, bool colours) noexcept
      : fd_(fd), editor_(editor), colours_(colours) {}
  void add_shown_line(std::string_view safe_text, std::string_view colour);

  int fd_;
  bool editor_;
  bool colours_;
  bool editor_gone_ = false;
  std::string pending_;
};

}  // namespace epollchat::client
