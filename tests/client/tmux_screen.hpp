// TmuxScreen: epollchat on a terminal that a person would see, read back as text.
//
// A private tmux server (its own socket in a TempDir, no configuration file) runs one
// window of a fixed size. The command runs under bash, which records `stty -g` before and
// after it and its exit status, then waits, so the final screen can still be read.
// Keys are sent with `send-keys`; the screen is `capture-pane -p`, polled against a
// deadline until the expected text is there (tmux offers no event for "the screen
// changed", and each poll costs one short tmux command).
//
// Owns: the tmux server (killed, and reaped if it became this process's child as the
// subreaper, by the destructor) and the TempDir.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace epollchat::test {

class TmuxScreen {
 public:
  // Starts `command` with `env` (NAME=VALUE entries, after LANG, LC_ALL and TERM=screen)
  // in a width x height window. Throws std::runtime_error if tmux fails; fixtures check
  // tmux_is_available() first (InteractiveTest).
  explicit TmuxScreen(const std::vector<std::string>& command, int width = 100, int height = 30,
                      const std::vector<std::string>& env = {});
  TmuxScreen(const TmuxScreen&) = delete;
  TmuxScreen& operator=(const TmuxScreen&) = delete;
  ~TmuxScreen();

  // Text typed as it is.
  void type(std::string_view text);
  // tmux key names: "Enter", "Up", "Left", "C-c", "BSpace", "Home", "F5", ...
  void press(const std::vector<std::string>& keys);
  void resize(int width, int height);

  // The visible screen, one line per row, trailing blanks as tmux leaves them.
  [[nodiscard]] std::string screen() const;
  // The same with the colours and attributes as SGR escape sequences (capture-pane -e).
  [[nodiscard]] std::string screen_with_colours() const;
  // The last row that is not blank.
  [[nodiscard]] std::string last_line() const;
  ::testing::AssertionResult wait_for(std::string_view needle,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits until the last non-blank row is exactly `line`.
  ::testing::AssertionResult wait_for_last_line(
      std::string_view line, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The command's pid (bash's child) and its children, once it has started.
  [[nodiscard]] pid_t command_pid() const;
  // Waits until the command has exited; its status, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // `stty -g` from before the command started and after it ended.
  [[nodiscard]] std::string terminal_mode_before() const;
  [[nodiscard]] std::string terminal_mode_after() const;

 private:
  [[nodiscard]] std::vector<std::string> tmux(std::vector<std::string> args) const;
  std::string run(std::vector<std::string> args) const;

  TempDir dir_;
  std::string socket_;
  pid_t shell_ = -1;
  pid_t server_ = -1;
};

// Whether tmux can be run. Tests that need it fail when it is missing under CI (CI=true)
// and are skipped with a note elsewhere.
bool tmux_is_available();
// tmux as found in $PATH; empty if it is not there.
std::string tmux_path();

}  // namespace epollchat::test
