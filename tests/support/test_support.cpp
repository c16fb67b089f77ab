// Tests of the harness itself, so a failing integration test points at the daemon and not at
// the tools: the notify protocol parsing, the child's environment (WATCHDOG_PID is the
// child's own pid, RLIMIT_NOFILE applied, fds passed at 3..), exit statuses and output
// capture, the readers and writers of protocol lines, and TempDir.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "support/chat_client.hpp"
#include "support/child_process.hpp"
#include "support/daemon_process.hpp"
#include "support/loopback.hpp"
#include "support/notify_socket.hpp"
#include "support/output_capture.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

TEST(ParseListeningStatus, ReadsIpv4Ipv6AndSeveralListeners) {
  const auto one = parse_listening_status("Listening on 127.0.0.1:8888");
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].host, "127.0.0.1");
  EXPECT_EQ(one[0].port, 8888);
  const auto two = parse_listening_status("Listening on [::1]:41000, 127.0.0.1:41001");
  ASSERT_EQ(two.size(), 2U);
  EXPECT_EQ(two[0].host, "::1");
  EXPECT_EQ(two[0].port, 41000);
  EXPECT_EQ(two[1].port, 41001);
  EXPECT_TRUE(parse_listening_status("3 clients online").empty());
  EXPECT_TRUE(parse_listening_status("Listening on 127.0.0.1:99999").empty());
}

TEST(ParseListeningStatus, TellsPlainAndTlsListenersApart) {
  constexpr std::string_view kStatus =
      "Listening on 127.0.0.1:8888, [::1]:8888; TLS on 127.0.0.1:6697, [::1]:6697 (kernel TLS off)";
  const auto plain = parse_listening_status(kStatus);
  ASSERT_EQ(plain.size(), 2U);
  EXPECT_EQ(plain[1].host, "::1");
  EXPECT_EQ(plain[1].port, 8888);
  const auto tls = parse_tls_listening_status(kStatus);
  ASSERT_EQ(tls.size(), 2U);
  EXPECT_EQ(tls[0].host, "127.0.0.1");
  EXPECT_EQ(tls[0].port, 6697);
  EXPECT_EQ(tls[1].port, 6697);
  EXPECT_TRUE(parse_tls_listening_status("Listening on 127.0.0.1:8888").empty());
}

TEST(NotifyMessage, FindsAssignmentsAndFields) {
  const NotifyMessage message{"READY=1\nSTATUS=Listening on 127.0.0.1:1\n", Clock::now()};
  EXPECT_TRUE(message.has("READY=1"));
  EXPECT_FALSE(message.has("READY=0"));
  EXPECT_EQ(message.field("STATUS"), "Listening on 127.0.0.1:1");
  EXPECT_FALSE(message.field("STAT").has_value());
}

TEST(NotifySocket, ReceivesADatagramSentToItsAbstractAddress) {
  NotifySocket notify;
  ASSERT_EQ(notify.address().front(), '@');
  const UniqueFd sender(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string name = notify.address().substr(1);
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  const std::string text = "WATCHDOG=1";
  ASSERT_EQ(::sendto(sender.get(), text.data(), text.size(), 0,
                     reinterpret_cast<const sockaddr*>(&address), length),
            static_cast<ssize_t>(text.size()));
  const auto message = notify.wait_for("WATCHDOG=1", 1s);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(notify.history().size(), 1U);
  EXPECT_FALSE(notify.receive(0ms).has_value());
}

TEST(RunCommand, CapturesBothStreamsAndTheExitCode) {
  const auto result = run_command({"/bin/sh", "-c", "echo out; echo err >&2; exit 78"});
  EXPECT_EQ(result.status, ExitStatus::exited_with(78));
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST(RunCommand, ReportsDeathBySignal) {
  const auto result = run_command({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(result.status, ExitStatus::killed_by(SIGTERM));
}

TEST(RunCommand, HidesTheTestsOwnSystemdVariablesButPassesExtras) {
  ::setenv("NOTIFY_SOCKET", "@leak", 1);
  const auto result =
      run_command({"/bin/sh", "-c", "echo \"[$NOTIFY_SOCKET][$EXTRA]\""}, {{"EXTRA", "yes"}});
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(result.out, "[][yes]\n");
}

TEST(ChildProcess, ExportsItsOwnPidAsWatchdogPidAndAppliesTheFdLimit) {
  OutputCapture output;
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo \"$WATCHDOG_PID $$ $(ulimit -n)\""};
  spec.env = clean_environment();
  spec.stdout_fd = output.write_fd();
  spec.export_watchdog_pid = true;
  spec.nofile_limit = 32;
  ChildProcess child = ChildProcess::spawn(spec);
  output.close_write_end();
  EXPECT_EQ(child.wait_exit(10s), ExitStatus::exited_with(0));
  ASSERT_TRUE(output.wait_for_eof(10s));
  const std::string pid = std::to_string(child.pid());
  EXPECT_EQ(output.text(), pid + " " + pid + " 32\n");
}

TEST(ChildProcess, PassesFdsFromThreeOnInOrderWithItsOwnPidAsListenPid) {
  TempDir dir;
  std::vector<UniqueFd> files;
  for (const char* name : {"first", "second", "third"}) {
    files.emplace_back(::open(dir.write(name, name).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(files.back());
  }
  OutputCapture output;
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "cat <&3; cat <&4; cat <&5; echo \" $LISTEN_PID $$\""};
  spec.env = clean_environment();
  spec.stdout_fd = output.write_fd();
  // In reverse: the third file's fd goes to 3, which may be where another source sits.
  spec.passed_fds = {files[2].get(), files[1].get(), files[0].get()};
  spec.export_listen_pid = true;
  ChildProcess child = ChildProcess::spawn(spec);
  output.close_write_end();
  EXPECT_EQ(child.wait_exit(10s), ExitStatus::exited_with(0));
  ASSERT_TRUE(output.wait_for_eof(10s));
  const std::string pid = std::to_string(child.pid());
  EXPECT_EQ(output.text(), "thirdsecondfirst " + pid + " " + pid + "\n");
}

TEST(ChildProcess, ExecFailureIsAnException) {
  SpawnSpec spec;
  spec.argv = {"/nonexistent/epollchatd"};
  EXPECT_THROW(ChildProcess::spawn(spec), std::system_error);
}

TEST(ChildProcess, WaitExitTimesOutThenKillsInDestructor) {
  SpawnSpec spec;
  spec.argv = {"/bin/sleep", "60"};
  pid_t pid = 0;
  {
    ChildProcess child = ChildProcess::spawn(spec);
    pid = child.pid();
    EXPECT_FALSE(child.wait_exit(50ms).has_value());
    EXPECT_FALSE(child.has_exited());
  }
  EXPECT_NE(::kill(pid, 0), 0) << "the destructor left the child running";
}

TEST(ChatClient, ReadsLinesSplitAnywhereAndSeesTheClose) {
  const UniqueFd listener = listen_on("127.0.0.1");
  ChatClient client(local_port(listener.get()));
  const UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(peer);
  ASSERT_EQ(::send(peer.get(), "one\ntw", 6, 0), 6);
  EXPECT_TRUE(client.expect_line("one"));
  EXPECT_FALSE(client.read_line(20ms).has_value());
  ASSERT_EQ(::send(peer.get(), "o\nrest", 6, 0), 6);
  EXPECT_TRUE(client.expect_line("two"));
  ::shutdown(peer.get(), SHUT_WR);
  EXPECT_EQ(client.read_until_closed(1s), "rest");
  EXPECT_TRUE(client.peer_closed());
}

TEST(ChatClient, SkipsUntilALineThatIsWanted) {
  const UniqueFd listener = listen_on("127.0.0.1");
  ChatClient client(local_port(listener.get()));
  const UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(peer);
  constexpr std::string_view kSent = "*** a\n*** b\nchat\nafter\n";
  ASSERT_EQ(::send(peer.get(), kSent.data(), kSent.size(), 0), static_cast<ssize_t>(kSent.size()));
  const auto not_a_notice = [](std::string_view line) { return !line.starts_with("*** "); };
  EXPECT_EQ(client.skip_until(not_a_notice, 1s), "chat");
  EXPECT_TRUE(client.expect_line("after"));
  EXPECT_FALSE(client.skip_until(not_a_notice, 20ms).has_value());
}

TEST(ProtocolLines, ReadsWelcomesChatLinesAndWhoReplies) {
  EXPECT_EQ(lines::parse_welcome_name(lines::welcome("Client #n2:1")), "Client #n2:1");
  EXPECT_EQ(lines::parse_welcome_id(lines::welcome(7)), 7);
  EXPECT_FALSE(lines::parse_welcome_id(lines::welcome("Client #n2:1")).has_value());
  EXPECT_FALSE(lines::parse_welcome_name(lines::kWelcomePrefix).has_value());
  EXPECT_FALSE(lines::parse_client_id("Client #3x").has_value());

  const auto chat = lines::parse_chat_line(lines::says(12, "hi >> there"));
  ASSERT_TRUE(chat.has_value());
  EXPECT_EQ(chat->sender, 12);
  EXPECT_EQ(chat->text, "hi >> there");
  EXPECT_FALSE(lines::parse_chat_line(lines::says("alice", "hi")).has_value());
  EXPECT_TRUE(lines::is_leave_notice(lines::left(3, 1) + ": bye", lines::client_name(3)));

  const std::string who = lines::who_reply({"alice", "Client #3"});
  EXPECT_EQ(who, "*** 2 online: alice, Client #3");
  const auto head = lines::parse_who_head(who);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->count, 2);
  std::vector<std::string> names;
  lines::append_listed_names(std::string_view(who).substr(head->names_at), names);
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "Client #3"}));
  EXPECT_FALSE(lines::parse_who_head(lines::joined(3, 2)).has_value());
}

TEST(ProtocolLines, ListsRoomsInTheOrderGiven) {
  EXPECT_EQ(lines::rooms_reply({{"lobby", 0}, {"dev", 2}}), "*** Rooms: lobby (0), dev (2)");
  EXPECT_EQ(lines::lobby_rooms_reply(3), "*** Rooms: lobby (3)");
}

TEST(TempDir, WritesFilesAndTakesThemAlong) {
  std::filesystem::path kept;
  {
    const TempDir dir;
    kept = dir.path();
    const std::string written = dir.write("a.conf", "port = 0\n");
    EXPECT_EQ(written, dir.file("a.conf").string());
    EXPECT_EQ(std::filesystem::file_size(written), 9U);
    EXPECT_FALSE(std::filesystem::exists(dir.file("absent")));
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(ProcessStats, SeesThisProcessesFdsAndListeners) {
  const std::size_t before = count_open_fds(::getpid());
  const UniqueFd listener = listen_on("127.0.0.1");
  EXPECT_EQ(count_open_fds(::getpid()), before + 1);
  const auto listening = listening_tcp_sockets(::getpid());
  ASSERT_EQ(listening.size(), 1U);
  EXPECT_EQ(listening[0].fd, listener.get());
  EXPECT_EQ(listening[0].port, local_port(listener.get()));
  EXPECT_GT(resident_set_bytes(::getpid()), 0U);
}

}  // namespace
}  // namespace epollchat::test
