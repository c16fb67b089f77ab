// Chatting through the real client: both directions, a line far longer than any pipe or
// socket buffer, IPv6, and a paste that outruns a server which is not reading.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "client_harness.hpp"
#include "support/chat_client.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class ChatTest : public ClientTest {};

TEST_F(ChatTest, TwoClientsExchangeMessagesBothWays) {
  DaemonProcess daemon;
  PtyClient terminal(client_args(daemon.port()));
  ASSERT_TRUE(terminal.wait_for_output(lines::welcome(1)));
  PipedClient piped(client_args(daemon.port()));
  ASSERT_TRUE(piped.wait_for_output(lines::welcome(2)));
  ASSERT_TRUE(terminal.wait_for_output(lines::joined(2, 2)));

  terminal.type("hello from the terminal\n");
  EXPECT_TRUE(piped.wait_for_output(lines::says(1, "hello from the terminal") + "\n"));
  ASSERT_TRUE(piped.write_input("hello from the pipe\n"));
  // On a terminal, the line editor's output mode turns LF into CR LF.
  EXPECT_TRUE(terminal.wait_for_output(lines::says(2, "hello from the pipe") + "\r\n"));

  terminal.type("exit\n");
  EXPECT_EQ(terminal.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_TRUE(piped.wait_for_output(lines::left(1, 1)));
  piped.close_input();
  EXPECT_EQ(piped.wait_exit(), ExitStatus::exited_with(0));
}

// A pasted line of 100 KB crosses the child's reads, the pipe (64 KiB) and the socket in
// many pieces; it must reach the others as one line, byte for byte.
TEST_F(ChatTest, HundredKilobyteLineArrivesWhole) {
  DaemonProcess daemon(DaemonOptions::with_args({"--max-line", "200000"}));
  PipedClient sender(client_args(daemon.port()));
  ASSERT_TRUE(sender.wait_for_output(lines::welcome(1)));
  PipedClient receiver(client_args(daemon.port()));
  ASSERT_TRUE(receiver.wait_for_output(lines::welcome(2)));
  ASSERT_TRUE(sender.wait_for_output(lines::joined(2, 2)));

  std::string line;
  for (int i = 0; line.size() < 100 * 1024; ++i) line += "word" + std::to_string(i) + " ";
  ASSERT_TRUE(sender.write_input(line + "\nafter\n"));

  EXPECT_TRUE(
      receiver.wait_for_output(lines::says(1, line) + "\n" + lines::says(1, "after") + "\n"));
  EXPECT_EQ(receiver.out().text().find("Line too long"), std::string::npos);
  sender.close_input();
  EXPECT_EQ(sender.wait_exit(), ExitStatus::exited_with(0));
  receiver.close_input();
  EXPECT_EQ(receiver.wait_exit(), ExitStatus::exited_with(0));
}

TEST_F(ChatTest, ConnectsOverIpv6AndLeavesCleanlyOnceTheServerAnswersItsShutdown) {
  StandInServer server("::1");
  PipedClient client(client_args(server.port(), "::1"));
  const UniqueFd connection = server.accept();

  send_all(connection.get(), "hello over IPv6\n");
  ASSERT_TRUE(client.wait_for_output("hello over IPv6\n"));
  ASSERT_TRUE(client.write_input("hi\n"));
  client.close_input();
  // Everything typed, then our FIN: the server reads to EOF, then closes its side.
  EXPECT_EQ(receive_until_closed(connection.get()), std::optional<std::string>("hi\n"));
  ::shutdown(connection.get(), SHUT_WR);

  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
  EXPECT_EQ(client.out().text(), "hello over IPv6\n");
}

// A server that reads nothing: the client's buffers fill, then it stops reading the pipe,
// the child blocks, and finally our writes to its standard input block too. Once the
// server reads again, every line arrives, in order, exactly once.
TEST_F(ChatTest, PasteFasterThanTheServerReadsLosesNothing) {
  StandInServer server("127.0.0.1", 16 * 1024);
  PipedClient client(client_args(server.port()));
  const UniqueFd connection = server.accept();

  std::string paste;
  char line[128];
  for (int i = 0; i < 80'000; ++i) {
    std::snprintf(line, sizeof line, "line %06d of a long paste, padded to be a bit longer\n", i);
    paste += line;
  }
  std::string_view unsent = paste;
  const int input = client.input_fd();
  const int pipe_size = ::fcntl(input, F_GETPIPE_SZ);
  ASSERT_GT(pipe_size, 0);

  // Phase 1: write until our own pipe into the client stays full.
  const Deadline deadline(10s);
  bool stalled = false;
  while (!stalled && !unsent.empty() && !deadline.has_expired()) {
    const ssize_t written = ::write(input, unsent.data(), unsent.size());
    if (written > 0) {
      unsent.remove_prefix(static_cast<std::size_t>(written));
      continue;
    }
    ASSERT_EQ(errno, EAGAIN);
    pollfd writable{input, POLLOUT, 0};
    if (::poll(&writable, 1, 200) == 0) {
      int queued = 0;
      ASSERT_EQ(::ioctl(input, FIONREAD, &queued), 0);
      stalled = queued == pipe_size;
    }
  }
  ASSERT_TRUE(stalled) << "the client took " << paste.size() - unsent.size()
                       << " bytes while the server read nothing";

  // Phase 2: the server reads; the rest of the paste goes in as the client takes it.
  std::string received;
  bool input_closed = false;
  char buffer[65536];
  while (!deadline.has_expired()) {
    if (unsent.empty() && !input_closed) {
      client.close_input();
      input_closed = true;
    }
    pollfd entries[2] = {{connection.get(), POLLIN, 0}, {input, POLLOUT, 0}};
    ASSERT_GE(::poll(entries, input_closed ? 1 : 2, deadline.poll_timeout()), 0);
    if ((entries[0].revents & (POLLIN | POLLHUP)) != 0) {
      const ssize_t got = ::recv(connection.get(), buffer, sizeof buffer, 0);
      ASSERT_GE(got, 0);
      if (got == 0) break;  // The client's FIN: it has sent everything.
      received.append(buffer, static_cast<std::size_t>(got));
    }
    if (!input_closed && (entries[1].revents & POLLOUT) != 0) {
      const ssize_t written = ::write(input, unsent.data(), unsent.size());
      if (written > 0) unsent.remove_prefix(static_cast<std::size_t>(written));
    }
  }
  ASSERT_FALSE(deadline.has_expired());
  EXPECT_EQ(received.size(), paste.size());
  EXPECT_TRUE(received == paste) << "the lines arrived altered or out of order";

  ::shutdown(connection.get(), SHUT_WR);
  EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(0));
}

}  // namespace
}  // namespace epollchat::test
