#include "tmux_screen.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "client_harness.hpp"
#include "support/deadline.hpp"
#include "support/run_command.hpp"

namespace epollchat::test {
namespace {

using namespace std::chrono_literals;

// How often the screen is read while waiting for it to show something.
constexpr auto kPollInterval = 20ms;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  std::string contents = text.str();
  while (!contents.empty() && contents.back() == '\n') contents.pop_back();
  return contents;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(' ') == std::string_view::npos;
}

}  // namespace

std::string tmux_path() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    const std::filesystem::path candidate =
        std::filesystem::path(std::string(dirs.substr(0, colon))) / "tmux";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return {};
}

bool tmux_is_available() { return !tmux_path().empty(); }

TmuxScreen::TmuxScreen(const std::vector<std::string>& command, int width, int height,
                       const std::vector<std::string>& env)
    : socket_(dir_.file("tmux.sock")) {
  // bash, not sh: after the command ends on a Ctrl-C it handled itself, bash goes on with
  // the script (it exits itself only if the command was killed by the signal).
  std::vector<std::string> args = {
      "new-session",
      "-d",
      "-x",
      std::to_string(width),
      "-y",
      std::to_string(height),
      "--",
      "bash",
      "-c",
      "stty -g >\"$0/before\"; \"$@\"; status=$?; stty -g >\"$0/after\"; "
      "echo \"$status\" >\"$0/status\"; echo \"[exited $status]\"; exec sleep 600",
      dir_.path().string(),
      "env",
      "LANG=C.UTF-8",
      "LC_ALL=C.UTF-8",
      "TERM=screen"};
  args.insert(args.end(), env.begin(), env.end());
  args.insert(args.end(), command.begin(), command.end());
  run(args);
  shell_ = std::stoi(run({"display-message", "-p", "#{pane_pid}"}));
  server_ = std::stoi(run({"display-message", "-p", "#{pid}"}));
}

TmuxScreen::~TmuxScreen() {
  try {
    (void)run_command(tmux({"kill-server"}));
  } catch (const std::exception&) {
  }
  if (server_ > 0) {
    // As the subreaper, this process may have inherited the daemonized server.
    ::kill(server_, SIGKILL);
    (void)::waitpid(server_, nullptr, 0);
  }
}

std::vector<std::string> TmuxScreen::tmux(std::vector<std::string> args) const {
  std::vector<std::string> argv = {tmux_path(), "-u", "-f", "/dev/null", "-S", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string TmuxScreen::run(std::vector<std::string> args) const {
  const CommandResult result = run_command(tmux(std::move(args)), {}, 5s);
  if (result.status != ExitStatus::exited_with(0)) {
    throw std::runtime_error("tmux failed: " + result.err);
  }
  std::string out = result.out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void TmuxScreen::type(std::string_view text) {
  run({"send-keys", "-t", "0", "-l", "--", std::string(text)});
}

void TmuxScreen::press(const std::vector<std::string>& keys) {
  std::vector<std::string> args = {"send-keys", "-t", "0"};
  args.insert(args.end(), keys.begin(), keys.end());
  run(args);
}

void TmuxScreen::resize(int width, int height) {
  run({"resize-window", "-t", "0", "-x", std::to_string(width), "-y", std::to_string(height)});
}

std::string TmuxScreen::screen() const { return run({"capture-pane", "-p", "-t", "0"}); }

std::string TmuxScreen::screen_with_colours() const {
  return run({"capture-pane", "-e", "-p", "-t", "0"});
}

std::string TmuxScreen::last_line() const {
  const std::string text = screen();
  std::string last;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!is_blank(line)) last = line;
  }
  while (!last.empty() && last.back() == ' ') last.pop_back();
  return last;
}

::testing::AssertionResult TmuxScreen::wait_for(std::string_view needle,
                                                std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    const std::string text = screen();
    if (text.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    if (deadline.has_expired()) {
      return ::testing::AssertionFailure() << "no '" << needle << "' on the screen:\n" << text;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

::testing::AssertionResult TmuxScreen::wait_for_last_line(std::string_view line,
                                                          std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    if (last_line() == line) return ::testing::AssertionSuccess();
    if (deadline.has_expired()) {
      return ::testing::AssertionFailure() << "the last line is not '" << line << "'; the screen:\n"
                                           << screen();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

pid_t TmuxScreen::command_pid() const {
  const std::vector<pid_t> children = children_of(shell_);
  return children.size() == 1 ? children.front() : -1;
}

std::optional<int> TmuxScreen::wait_exit(std::chrono::milliseconds timeout) {
  if (!wait_for("[exited ", timeout)) return std::nullopt;
  return std::stoi(read_file(dir_.file("status")));
}

std::string TmuxScreen::terminal_mode_before() const { return read_file(dir_.file("before")); }

std::string TmuxScreen::terminal_mode_after() const { return read_file(dir_.file("after")); }

}  // namespace epollchat::test
