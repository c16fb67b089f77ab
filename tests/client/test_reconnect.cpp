// Reconnecting: the daemon restarted under an interactive client, which comes back with
// its nickname and room; the exact exchange with a stand-in server, lines typed meanwhile
// included; --reconnect for scripts and --no-reconnect on a terminal.
#include <gtest/gtest.h>

#include "interactive_test.hpp"
#include "support/chat_client.hpp"
#include "support/daemon_process.hpp"
#include "support/loopback.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class ReconnectTest : public InteractiveTest {};

TEST_F(ReconnectTest, ADaemonRestartedUnderTheClientGetsBackItsNameAndRoom) {
  std::optional<DaemonProcess> daemon(std::in_place);
  const std::uint16_t port = daemon->port();
  const auto screen = start_client(port);
  ASSERT_TRUE(screen->wait_for_last_line("[lobby] Client #1>"));
  screen->type("/nick bob");
  screen->press({"Enter"});
  screen->type("/join den");
  screen->press({"Enter"});
  ASSERT_TRUE(screen->wait_for_last_line("[den] bob>"));

  daemon.reset();
  ASSERT_TRUE(screen->wait_for("*** Connection lost; reconnecting in "));
  DaemonOptions same_port;
  same_port.port = std::to_string(port);
  daemon.emplace(same_port);

  EXPECT_TRUE(screen->wait_for("*** Reconnected as bob in den.", std::chrono::seconds(10)));
  EXPECT_TRUE(screen->wait_for_last_line("[den] bob>"));
  // The server agrees.
  ChatClient observer(port);
  ASSERT_TRUE(observer.expect_line(lines::welcome(2)));
  observer.send("/join den\n");
  ASSERT_TRUE(observer.skip_until_line(lines::now_in("den", 2)));
  screen->type("back");
  screen->press({"Enter"});
  EXPECT_TRUE(observer.skip_until_line(lines::says("bob", "back")));
}

// The whole exchange, byte for byte: the restore commands come before the lines typed
// while disconnected, and those wait until the server has answered them.
TEST_F(ReconnectTest, LinesTypedWhileDisconnectedAreSentAfterTheRejoin) {
  StandInServer server;
  const auto screen = start_client(server.port());
  UniqueFd first = server.accept();
  send_all(first.get(),
           "Welcome to the chat room! Your chat ID is: Client #1\n"
           "*** You are now known as bob.\n"
           "*** You are now in den (1 online).\n");
  ASSERT_TRUE(screen->wait_for_last_line("[den] bob>"));

  first.reset();
  ASSERT_TRUE(screen->wait_for("*** Connection lost; reconnecting in "));
  screen->type("typed while away");
  screen->press({"Enter"});
  ASSERT_TRUE(screen->wait_for("lines typed now are sent after the reconnect"));

  UniqueFd second = server.accept();
  send_all(second.get(), "Welcome to the chat room! Your chat ID is: Client #7\n");
  EXPECT_EQ(receive_until(second.get(), "/join den\n"), "/nick bob\n/join den\n");
  send_all(second.get(),
           "*** You are now known as bob.\n"
           "*** You are now in den (1 online).\n");
  EXPECT_EQ(receive_until(second.get(), "away\n"), "typed while away\n");
  EXPECT_TRUE(screen->wait_for("*** Reconnected as bob in den."));
}

TEST_F(ReconnectTest, ScriptsAskForItWithTheReconnectOption) {
  StandInServer server;
  std::vector<std::string> args = {client_path(), "--reconnect", "127.0.0.1",
                                   std::to_string(server.port())};
  PipedClient client(args);
  UniqueFd first = server.accept();
  send_all(first.get(), "Welcome to the chat room! Your chat ID is: Client #1\n");
  ASSERT_TRUE(client.wait_for_output("Client #1\n"));
  first.reset();
  ASSERT_TRUE(client.wait_for_output("*** Connection lost; reconnecting in "));
  UniqueFd second = server.accept();
  send_all(second.get(), "Welcome to the chat room! Your chat ID is: Client #2\n");
  ASSERT_TRUE(client.wait_for_output("*** Reconnected as Client #2 in lobby.\n"));
  client.close_input();
  EXPECT_EQ(receive_until_closed(second.get()), std::optional<std::string>(""));
  second.reset();
  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
}

// At most 100 lines wait for the reconnect; each one beyond is dropped, and said so.
TEST_F(ReconnectTest, LinesTypedWhileDisconnectedAreKeptUpToABound) {
  StandInServer server;
  std::vector<std::string> args = {client_path(), "--reconnect", "127.0.0.1",
                                   std::to_string(server.port())};
  PipedClient client(args);
  UniqueFd first = server.accept();
  send_all(first.get(), "Welcome to the chat room! Your chat ID is: Client #1\n");
  ASSERT_TRUE(client.wait_for_output("Client #1\n"));
  first.reset();
  ASSERT_TRUE(client.wait_for_output("*** Connection lost; reconnecting in "));

  std::string typed;
  std::string kept;
  for (int i = 1; i <= 101; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    typed += line;
    if (i <= 100) kept += line;
  }
  ASSERT_TRUE(client.write_input(typed));
  ASSERT_TRUE(client.wait_for_output(
      "*** Not connected; lines typed now are sent after the reconnect (at most 100).\n"));
  ASSERT_TRUE(client.wait_for_output(
      "*** Not connected and 100 lines are waiting; this one was dropped.\n"));

  // Held until the server has welcomed the client back.
  UniqueFd second = server.accept();
  // The input ends before the welcome: the held lines still go first, then our FIN.
  client.close_input();
  send_all(second.get(), "Welcome to the chat room! Your chat ID is: Client #2\n");
  EXPECT_EQ(receive_until_closed(second.get()), std::optional<std::string>(kept));
  second.reset();
  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
}

TEST_F(ReconnectTest, ARefusedFirstConnectionExitsAtOnceEvenOnATerminal) {
  const std::uint16_t port = pick_unused_port("127.0.0.1");
  const auto screen = start_client(port);
  EXPECT_EQ(screen->wait_exit(), std::optional<int>(2));
  EXPECT_TRUE(screen->wait_for("epollchat: cannot connect to 127.0.0.1:"));
}

}  // namespace
}  // namespace epollchat::test
