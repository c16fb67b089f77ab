// Every way out of an interactive session puts the terminal back as it was (`stty -g`
// before and after) and leaves no process behind, with the documented exit status.
#include <signal.h>

#include <gtest/gtest.h>

#include "interactive_test.hpp"
#include "support/chat_client.hpp"
#include "support/daemon_process.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class TerminalExitTest : public InteractiveTest {
 protected:
  // Starts the client, waits for its prompt and finds its keyboard child; a half-typed
  // line is left on it, so the terminal is in the editor's mode when the exit comes.
  void start(std::vector<std::string> extra_args = {}) {
    screen_ = start_client(daemon_->port(), std::move(extra_args));
    ASSERT_TRUE(screen_->wait_for_last_line("[lobby] Client #1>"));
    client_ = screen_->command_pid();
    ASSERT_GT(client_, 0);
    ASSERT_TRUE(find_input_reader(client_, reader_));
    screen_->type("half");
    ASSERT_TRUE(screen_->wait_for_last_line("[lobby] Client #1> half"));
  }

  void expect_clean_exit(int status) {
    EXPECT_EQ(screen_->wait_exit(), std::optional<int>(status)) << screen_->screen();
    EXPECT_EQ(screen_->terminal_mode_after(), screen_->terminal_mode_before());
    EXPECT_TRUE(is_gone(reader_));
    EXPECT_TRUE(is_gone(client_));
  }

  std::optional<DaemonProcess> daemon_{std::in_place};
  std::unique_ptr<TmuxScreen> screen_;
  pid_t client_ = -1;
  pid_t reader_ = -1;
};

TEST_F(TerminalExitTest, Exit) {
  start();
  screen_->press({"C-u"});
  screen_->type("exit");
  screen_->press({"Enter"});
  expect_clean_exit(0);
}

TEST_F(TerminalExitTest, Quit) {
  start();
  screen_->press({"C-u"});
  screen_->type("/quit");
  screen_->press({"Enter"});
  expect_clean_exit(0);
}

TEST_F(TerminalExitTest, QuitWithAReasonIsLeavingNotBeingClosed) {
  start();
  screen_->press({"C-u"});
  screen_->type("/quit see you");
  screen_->press({"Enter"});
  expect_clean_exit(0);
  EXPECT_EQ(screen_->screen().find("Connection closed by server"), std::string::npos);
}

TEST_F(TerminalExitTest, CtrlD) {
  start();
  screen_->press({"C-u", "C-d"});
  expect_clean_exit(0);
}

TEST_F(TerminalExitTest, CtrlC) {
  start();
  screen_->press({"C-c"});
  expect_clean_exit(0);
}

TEST_F(TerminalExitTest, Sigterm) {
  start();
  ASSERT_EQ(::kill(client_, SIGTERM), 0);
  expect_clean_exit(0);
}

TEST_F(TerminalExitTest, ServerClosedWithoutReconnect) {
  start({"--no-reconnect"});
  daemon_->send_signal(SIGTERM);
  expect_clean_exit(3);
  EXPECT_TRUE(screen_->wait_for("*** Server shutting down.\n*** Connection closed by server."));
}

TEST_F(TerminalExitTest, CtrlCWhileReconnectingGivesUp) {
  start();
  daemon_.reset();
  ASSERT_TRUE(screen_->wait_for("*** Connection lost; reconnecting in "));
  screen_->press({"C-c"});
  expect_clean_exit(0);
}

}  // namespace
}  // namespace epollchat::test
