// What the client shows of the server's bytes: control sequences made harmless, and the
// NUL padding of the original tutorial's server gone.
#include <gtest/gtest.h>

#include "client/terminal_text.hpp"
#include "client_harness.hpp"
#include "support/chat_client.hpp"

namespace epollchat::test {
namespace {

class DisplayTest : public ClientTest {};

TEST_F(DisplayTest, EscapeSequencesFromTheServerReachTheTerminalOnlyAsCaretNotation) {
  StandInServer server;
  PtyClient client(client_args(server.port()));
  UniqueFd connection = server.accept();

  send_all(connection.get(),
           "Client #2 says >> \x1b[2J\x1b]0;owned\x07 bell del\x7f tab\tkept\r\n"
           "csi \xc2\x9b"
           "31m, caf\xc3\xa9\n");

  ASSERT_TRUE(client.wait_for_output("caf"));
  ASSERT_TRUE(client.wait_for_output("\n"));
  // On a terminal, the line editor's output mode turns LF into CR LF.
  EXPECT_NE(client.output().find("Client #2 says >> ^[[2J^[]0;owned^G bell del^? tab\tkept\r\n"
                                 "csi M-^[31m, caf\xc3\xa9\r\n"),
            std::string::npos)
      << escape_bytes(client.output());
  // On a terminal the line editor writes escape sequences of its own (the prompt, redraws),
  // but none of the server's.
  EXPECT_EQ(client.output().find("\x1b[2J"), std::string::npos);
  EXPECT_EQ(client.output().find("\x1b]"), std::string::npos);
  EXPECT_EQ(client.output().find('\x07'), std::string::npos);
  client.type("exit\n");
  // The client sends its FIN and waits for ours.
  EXPECT_EQ(receive_until_closed(connection.get()), std::optional<std::string>(""));
  connection.reset();
  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
}

// The tutorial's server sends every message as a 65535-byte block: the text, then NULs.
TEST_F(DisplayTest, NulPaddedBlocksOfTheTutorialServerShowAsPlainLines) {
  StandInServer server;
  PipedClient client(client_args(server.port()));
  UniqueFd connection = server.accept();

  auto block = [](std::string text) {
    text.resize(65535, '\0');
    return text;
  };
  const std::string welcome =
      block("Welcome you join  to the chat room! Your chat ID is: Client #5");
  // Split unevenly, so the text and the padding cross the client's reads.
  send_all(connection.get(), std::string_view(welcome).substr(0, 20));
  send_all(connection.get(), std::string_view(welcome).substr(20));
  send_all(connection.get(), block("ClientID 6 say >> hello"));
  ASSERT_TRUE(client.wait_for_output("hello\n"));

  // And what it would read from us: one line, as typed.
  ASSERT_TRUE(client.write_input("hi there\n"));
  EXPECT_EQ(receive_until(connection.get(), "\n"), "hi there\n");

  send_all(connection.get(), block("There is only one int the char room!"));
  connection.reset();
  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(3));
  EXPECT_EQ(client.out().text(),
            "Welcome you join  to the chat room! Your chat ID is: Client #5\n"
            "ClientID 6 say >> hello\n"
            "There is only one int the char room!\n"
            "*** Connection closed by server.\n");
}

TEST(TerminalText, ShowsControlCharactersInCaretNotation) {
  std::string shown;
  client::append_displayable(shown, std::string_view("a\x01\x1b[0m\x7f\t\x1f z", 11));
  EXPECT_EQ(shown, "a^A^[[0m^?\t^_ z");
}

TEST(TerminalText, ShowsUtf8C1ControlsButKeepsOtherUtf8) {
  std::string shown;
  client::append_displayable(shown, "\xc2\x80\xc2\x9b\xc2\x9f\xc2\xa0\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(shown, "M-^@M-^[M-^_\xc2\xa0\xc3\xa9\xe2\x82\xac");
}

TEST(TerminalText, KeepsInvalidUtf8AndALoneLeadByteAsTheyAre) {
  std::string shown;
  client::append_displayable(shown, "\xff\xfe x \xc2");
  EXPECT_EQ(shown, "\xff\xfe x \xc2");
}

}  // namespace
}  // namespace epollchat::test
