// Every way of leaving a session: exit, /quit, end of input, SIGINT, SIGTERM end it with
// status 0, the server sees the client leave, and no process is left behind; the server
// going away ends it with the closing notice and status 3.
#include <signal.h>

#include <gtest/gtest.h>

#include "client_harness.hpp"
#include "support/chat_client.hpp"
#include "support/daemon_process.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::string_view kWelcome = "Welcome to the chat room!";

// A daemon with one raw observer connected first (Client #1), so every test can check
// what the server saw of the client under test (Client #2).
class SessionEndTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    ASSERT_TRUE(observer_.expect_line(lines::welcome(1)));
  }

  // The observer sees Client #2 join; call once the client under test shows its welcome.
  void expect_joined() { EXPECT_TRUE(observer_.skip_until_line(lines::joined(2, 2))); }
  // The next thing the observer sees is Client #2 leaving: nothing it typed to end the
  // session was relayed.
  void expect_left_next() { EXPECT_TRUE(observer_.expect_line(lines::left(2, 1))); }

  DaemonProcess daemon_;
  ChatClient observer_{daemon_.port()};
};

TEST_F(SessionEndTest, ExitTypedOnATerminalEndsWithStatusZero) {
  PtyClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  client.type("exit\n");

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  expect_left_next();
}

TEST_F(SessionEndTest, QuitTypedOnATerminalEndsWithStatusZero) {
  PtyClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  client.type("  /quit \n");

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  expect_left_next();
}

TEST_F(SessionEndTest, CtrlDOnATerminalSendsWhatWasTypedAndEndsWithStatusZero) {
  PtyClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  client.type("last words\n\x04");

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  EXPECT_TRUE(observer_.expect_line(lines::says(2, "last words")));
  expect_left_next();
}

// "/quit REASON" is sent; the server's close that answers it is the user leaving, not the
// server closing on them.
TEST_F(SessionEndTest, QuitWithAReasonEndsQuietlyWithStatusZero) {
  PipedClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  ASSERT_TRUE(client.write_input("/quit see you\n"));

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  EXPECT_TRUE(observer_.expect_line(lines::left(2, 1) + ": see you"));
  EXPECT_EQ(client.out().text(), lines::welcome(2) + "\n");
  EXPECT_EQ(client.err().text(), "");
}

TEST_F(SessionEndTest, EndOfPipedInputSendsEveryLineThenEndsWithStatusZero) {
  PipedClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  // As `printf 'hi\nno newline at the end' | epollchat`.
  ASSERT_TRUE(client.write_input("hi\nno newline at the end"));
  client.close_input();

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  EXPECT_TRUE(observer_.expect_line(lines::says(2, "hi")));
  EXPECT_TRUE(observer_.expect_line(lines::says(2, "no newline at the end")));
  expect_left_next();
  EXPECT_EQ(client.err().text(), "");
}

TEST_F(SessionEndTest, CtrlCOnATerminalEndsWithStatusZero) {
  PtyClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  // The terminal sends SIGINT to the whole foreground process group: both processes.
  client.type("\x03");

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  expect_left_next();
}

TEST_F(SessionEndTest, SigintToTheClientAloneEndsWithStatusZero) {
  PipedClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  client.send_signal(SIGINT);

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  expect_left_next();
}

TEST_F(SessionEndTest, SigtermEndsWithStatusZero) {
  PipedClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  client.send_signal(SIGTERM);

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(is_gone(reader));
  expect_left_next();
}

TEST_F(SessionEndTest, ServerShutdownShowsItsNoticeThenTheClosingOneAndExitsWithThree) {
  std::vector<std::string> args = client_args(daemon_.port());
  args.insert(args.begin() + 1, "--no-reconnect");
  PtyClient client(args);
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();
  pid_t reader = 0;
  ASSERT_TRUE(find_input_reader(client.pid(), reader));

  daemon_.send_signal(SIGTERM);

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(3));
  // On a terminal the notices may be dimmed, so each is looked for on its own.
  const std::size_t notice = client.output().find("*** Server shutting down.");
  EXPECT_NE(notice, std::string::npos) << escape_bytes(client.output());
  EXPECT_LT(notice, client.output().find("*** Connection closed by server."))
      << escape_bytes(client.output());
  EXPECT_TRUE(is_gone(reader));
}

TEST_F(SessionEndTest, ServerShutdownSeenThroughPipesGivesExactlyTheNotices) {
  PipedClient client(client_args(daemon_.port()));
  ASSERT_TRUE(client.wait_for_output(kWelcome));
  expect_joined();

  daemon_.send_signal(SIGTERM);

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(3));
  EXPECT_EQ(client.out().text(), lines::welcome(2) + "\n" + std::string(lines::kShuttingDown) +
                                     "\n*** Connection closed by server.\n");
  EXPECT_EQ(client.err().text(), "");
}

}  // namespace
}  // namespace epollchat::test
