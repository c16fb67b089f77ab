// StdinReader: the forked child that reads standard input, and the parent's handle on it.
//
// The client keeps the original tutorial's shape: a child process blocks in read() on the
// terminal while the parent runs the event loop, and a pipe carries the typed lines from
// one to the other. Done right, that means:
//  - The child is small and short-lived: no exec, no allocation, no stdio, only read(),
//    write() and _exit(). It never touches the socket (it closes its copy at once).
//  - Framing: the child writes every line followed by LF, with write_all() (partial writes
//    and EINTR handled). Lines may be far longer than PIPE_BUF, so a line can reach the
//    pipe in several writes; that is enough because the pipe has exactly one writer (this
//    child) and one reader (the parent): the byte stream is never interleaved, and the
//    parent re-frames it at LF. A line the child could not finish (it was killed) has no
//    LF and is never forwarded.
//  - `exit` or `/quit` on a line by itself (blanks and a CR around it allowed) ends the
//    input and is not forwarded, as man/epollchat.1 documents: the server sees our FIN,
//    which ends the session there just as its own /quit would. End of input ends the
//    child too.
//  - Signals: the parent blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD before spawn() and
//    reads them through a signalfd. The child ignores SIGINT (a Ctrl-C at the terminal
//    reaches the whole foreground process group, and the parent alone decides how the
//    session ends: it flushes what was typed, then stops the child), takes SIGTERM,
//    SIGHUP and SIGPIPE with their default action, and asks the kernel for SIGTERM when
//    the parent dies (PR_SET_PDEATHSIG), so no orphan ever keeps reading the terminal.
//
// With a line editor (both ends of the session are terminals) the child runs LineEditor
// instead (line_editor.hpp), and a second pipe, the display pipe, carries what the user
// should see from the parent to the child; then the child alone writes to the terminal.
//
// Owns: the pipe's read end (CLOEXEC, non-blocking), the display pipe's write end (CLOEXEC,
// blocking; only with a line editor) and the child process. Lifetime: the
// destructor stops a child that is still running (SIGTERM) and reaps it, so no zombie and
// no orphan outlives a StdinReader, whatever path the program leaves by.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <span>

#include "core/unique_fd.hpp"

namespace epollchat::client {

class StdinReader {
 public:
  // Creates the pipe and forks. In the child, `child_signal_mask` becomes the signal mask
  // (the mask from before the parent blocked its signals) and every fd in
  // `close_in_child` is closed. Throws std::system_error when pipe2() or fork() fails.
  // `editor`: run the line editor, with colours or not.
  struct EditorOptions {
    bool colours = false;
  };
  static StdinReader spawn(const sigset_t& child_signal_mask, std::span<const int> close_in_child,
                           std::optional<EditorOptions> editor = std::nullopt);

  StdinReader(StdinReader&& other) noexcept;
  StdinReader& operator=(StdinReader&&) = delete;
  StdinReader(const StdinReader&) = delete;
  StdinReader& operator=(const StdinReader&) = delete;
  ~StdinReader();

  // The pipe's read end; the lines the child forwards, each ending in LF.
  [[nodiscard]] int fd() const noexcept { return pipe_.get(); }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  // The display pipe's write end, or -1 without a line editor.
  [[nodiscard]] int display_fd() const noexcept { return display_.get(); }

  // Asks the child to stop unless it has been reaped or already asked: a line editor by
  // closing the display pipe (it shows what is left in it, restores the terminal and
  // exits), the plain reader by SIGTERM.
  void stop() noexcept;
  // Collects the child's exit status; with `wait` false only if it has already ended.
  // Returns whether the child has been reaped (now or before).
  bool reap(bool wait) noexcept;
  // Stops the child if it is still running, closes the pipe and waits for the child.
  void finish() noexcept;

  // True when the child ended on its own with a non-zero status: it could not read
  // standard input (it has said why on stderr).
  [[nodiscard]] bool has_failed() const noexcept { return failed_; }

 private:
  StdinReader(UniqueFd pipe, UniqueFd display, pid_t pid) noexcept
      : pipe_(std::move(pipe)), display_(std::move(display)), pid_(pid) {}

  UniqueFd pipe_;
  UniqueFd display_;
  pid_t pid_ = -1;
  bool stop_sent_ = false;
  bool reaped_ = false;
  bool failed_ = false;
};

}  // namespace epollchat::client
