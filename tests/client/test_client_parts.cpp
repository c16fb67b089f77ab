// The client's pieces without a process: what it reads from the server's lines, Tab
// completion, the daemon's port from its configuration, and the reconnect delays.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "client/display.hpp"
#include "client/line_editor.hpp"
#include "client/local_daemon_port.hpp"
#include "client/reconnect_backoff.hpp"
#include "client/whereabouts.hpp"
#include "core/unique_fd.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

using client::ServerReply;
using client::Whereabouts;

TEST(Whereabouts, FollowsTheWelcomeANicknameAndARoom) {
  Whereabouts where;
  EXPECT_EQ(where.prompt(), "> ");
  EXPECT_EQ(where.note_server_line("Welcome to the chat room! Your chat ID is: Client #3"),
            ServerReply::welcome);
  EXPECT_EQ(where.prompt(), "[lobby] Client #3> ");
  EXPECT_FALSE(where.has_nickname());
  EXPECT_EQ(where.note_server_line("*** You are now known as bob."), ServerReply::nickname_settled);
  EXPECT_EQ(where.note_server_line("*** You are now in den (2 online)."),
            ServerReply::room_settled);
  EXPECT_EQ(where.prompt(), "[den] bob> ");
  EXPECT_TRUE(where.has_nickname());
  EXPECT_EQ(where.note_server_line("*** Nickname carol is taken."), ServerReply::nickname_settled);
  EXPECT_EQ(where.note_server_line("*** You are already in den."), ServerReply::room_settled);
  EXPECT_EQ(where.name(), "bob");
  EXPECT_EQ(where.room(), "den");
}

TEST(Whereabouts, ChatLinesThatLookLikeNoticesChangeNothing) {
  Whereabouts where;
  (void)where.note_server_line("Welcome to the chat room! Your chat ID is: Client #3");
  EXPECT_EQ(where.note_server_line("Client #4 says >> *** You are now known as evil."),
            ServerReply::other);
  EXPECT_EQ(where.name(), "Client #3");
}

TEST(Whereabouts, KeepsTheNicknamesOfTheLastWho) {
  Whereabouts where;
  EXPECT_EQ(where.note_server_line("*** 3 online: alice, Client #2, bob"), ServerReply::who);
  EXPECT_EQ(where.who_nicknames(), (std::vector<std::string>{"alice", "bob"}));
}

TEST(Completion, CommandsAsTheFirstWord) {
  EXPECT_EQ(client::complete_word("/wh", "").insert, "o");
  EXPECT_EQ(client::complete_word("/ni", "").insert, "ck ");
  EXPECT_EQ(client::complete_word("/m", "").insert, "");
  EXPECT_EQ(client::complete_word("/m", "").candidates, "/me  /msg ");
  EXPECT_EQ(client::complete_word("/x", "").candidates, "");
}

TEST(Completion, NicknamesElsewhere) {
  EXPECT_EQ(client::complete_word("/msg al", "alice bob").insert, "ice ");
  EXPECT_EQ(client::complete_word("hi b", "alice bob").insert, "ob ");
  EXPECT_EQ(client::complete_word("a", "alice alan").insert, "l");
  EXPECT_EQ(client::complete_word("al", "alice alan").candidates, "alice alan");
}

// What a Display writes, read back from a pipe.
std::string written_by(client::Display& display, int read_end) {
  display.flush();
  std::string out(4096, '\0');
  const ssize_t got = ::read(read_end, out.data(), out.size());
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

TEST(Display, PlainLinesAreTheServerLinesMadeSafe) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC | O_NONBLOCK), 0);
  const UniqueFd read_end(ends[0]);
  const UniqueFd write_end(ends[1]);
  client::Display display = client::Display::plain(write_end.get());
  display.set_prompt("[lobby] bob> ");
  display.add_server_line("*** notice \x1b[2J");
  EXPECT_EQ(written_by(display, read_end.get()), "*** notice ^[[2J\n");
}

// The colour wraps the text after it was made safe: the server's ESC is shown as ^[, and
// the only escape sequences are the Display's own.
TEST(Display, ThroughTheEditorColoursComeAfterTheTextIsMadeSafe) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC | O_NONBLOCK), 0);
  const UniqueFd read_end(ends[0]);
  const UniqueFd write_end(ends[1]);
  client::Display display = client::Display::through_editor(write_end.get(), true);
  display.set_prompt("[den] bob> ");
  display.add_server_line("alice whispers >> \x1b[31mred");
  display.add_server_line("*** You are now in den (1 online).");
  display.set_completions({"alice", "bob"});
  EXPECT_EQ(written_by(display, read_end.get()),
            "P[den] bob> \n"
            "L\x1b[1;35malice whispers >> ^[[31mred\x1b[0m\n"
            "L\x1b[2m*** You are now in den (1 online).\x1b[0m\n"
            "Calice bob\n");
}

TEST(LocalDaemonPort, TheLastPortLineOfTheConfiguration) {
  EXPECT_EQ(client::port_in_config("# port = 1\nlisten = ::1\n port = 7000 \nport=7001\n"),
            std::optional<std::uint16_t>(7001));
  EXPECT_EQ(client::port_in_config("# port = 7000\n"), std::nullopt);
  EXPECT_EQ(client::port_in_config("port = 0\n"), std::nullopt);
}

TEST(LocalDaemonPort, DefaultsTo8888WhenTheFileSaysNothingOrIsMissing) {
  const TempDir dir;
  EXPECT_EQ(client::local_daemon_port(dir.file("missing.conf").c_str()), 8888);
  EXPECT_EQ(client::local_daemon_port(dir.write("a.conf", "max-line = 100\n").c_str()), 8888);
  EXPECT_EQ(client::local_daemon_port(dir.write("b.conf", "port = 9000\n").c_str()), 9000);
}

TEST(LocalDaemonPort, ADropInOfTheDaemonOverridesItsFile) {
  const TempDir dir;
  const std::string main = dir.write("epollchatd.conf", "port = 9000\n").string();
  std::filesystem::create_directories(dir.file("conf.d"));
  dir.write("conf.d/20-port.conf", "port = 9020\n");
  dir.write("conf.d/10-port.conf", "port = 9010\n");
  dir.write("conf.d/30-port.conf.disabled", "port = 9030\n");
  EXPECT_EQ(client::local_daemon_port(main.c_str()), 9020);
  dir.write("conf.d/15-other.conf", "max-line = 100\n");
  EXPECT_EQ(client::local_daemon_port(main.c_str()), 9020);
  // Beside an absent main file too, as the daemon reads them.
  std::filesystem::remove(main);
  EXPECT_EQ(client::local_daemon_port(main.c_str()), 9020);
}

TEST(ReconnectBackoff, StartsAtHalfASecondAndDoublesToThirtyWithJitter) {
  client::ReconnectBackoff backoff;
  const double bases[] = {0.5, 1, 2, 4, 8, 16, 30, 30};
  for (const double base : bases) {
    const double delay = static_cast<double>(backoff.next_delay().count()) / 1000.0;
    EXPECT_GE(delay, base * 0.8 - 0.001);
    EXPECT_LE(delay, std::min(base * 1.2, 30.0) + 0.001);
  }
  backoff.reset();
  EXPECT_LE(backoff.next_delay().count(), 600);
}

}  // namespace
}  // namespace epollchat::test
