// The daemon's log: sd-daemon "<N>" priority prefixes only when stderr is the journal (when
// JOURNAL_STREAM names stderr's device and inode, as systemd sets it), plain lines on
// anything else; a start that fails says why at err; the start line is a sentence; at
// debug, renames and room moves are logged, and no chat text ever is.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <csignal>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/daemon_process.hpp"
#include "support/loopback.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

constexpr auto kLogTimeout = 5s;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) break;  // a record still being written
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool has_priority_prefix(const std::string& line) {
  return line.size() >= 3 && line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>';
}

// Stops the daemon and waits until it has written its last line.
void stop(DaemonProcess& daemon) {
  daemon.send_signal(SIGTERM);
  ASSERT_TRUE(daemon.wait_exit(10s).has_value());
  ASSERT_TRUE(daemon.wait_for_stderr("stopped; longest loop turn", kLogTimeout))
      << daemon.stderr_text();
}

std::string start_line_for(const DaemonProcess& daemon, std::string_view tail) {
  return " listening on 127.0.0.1:" + std::to_string(daemon.port()) + std::string(tail);
}

TEST(Log, PlainLinesWhenJournalStreamIsUnset) {
  DaemonProcess daemon(DaemonOptions::with_args({"--max-clients", "1"}));
  const std::string start = start_line_for(daemon, "; up to 1 client.\n");
  ASSERT_TRUE(daemon.wait_for_stderr(start, kLogTimeout)) << daemon.stderr_text();
  stop(daemon);
  const auto lines = lines_of(daemon.stderr_text());
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.front().starts_with("epollchatd ")) << lines.front();
  for (const std::string& line : lines) EXPECT_FALSE(has_priority_prefix(line)) << line;
}

TEST(Log, PlainLinesWhenJournalStreamNamesAnotherFile) {
  // A service that hands its stderr to something else keeps the variable: it names the
  // journal's stream, not this one.
  const TempDir dir;
  const auto elsewhere = dir.write("elsewhere", "");
  const UniqueFd file(::open(elsewhere.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file);
  DaemonOptions options;
  options.env["JOURNAL_STREAM"] = journal_stream_of(file.get());
  DaemonProcess daemon(options);
  ASSERT_TRUE(
      daemon.wait_for_stderr(start_line_for(daemon, "; up to 1024 clients.\n"), kLogTimeout))
      << daemon.stderr_text();
  stop(daemon);
  for (const std::string& line : lines_of(daemon.stderr_text())) {
    EXPECT_FALSE(has_priority_prefix(line)) << line;
  }
}

TEST(Log, PriorityPrefixesWhenStderrIsTheJournal) {
  DaemonOptions options = DaemonOptions::with_args({"--log-level", "debug"});
  options.stderr_is_journal = true;
  DaemonProcess daemon(options);
  ASSERT_TRUE(daemon.wait_for_stderr("<5>epollchatd ", kLogTimeout))  // notice: the start line
      << daemon.stderr_text();
  ASSERT_TRUE(
      daemon.wait_for_stderr(start_line_for(daemon, "; up to 1024 clients.\n"), kLogTimeout))
      << daemon.stderr_text();
  {
    Member member = join(daemon.port());
    EXPECT_TRUE(daemon.wait_for_stderr("<7>client #1 connected from 127.0.0.1:", kLogTimeout))
        << daemon.stderr_text();
  }
  stop(daemon);
  EXPECT_NE(daemon.stderr_text().find("<5>received SIGTERM, shutting down\n"), std::string::npos)
      << daemon.stderr_text();
  for (const std::string& line : lines_of(daemon.stderr_text())) {
    EXPECT_TRUE(has_priority_prefix(line)) << line;
  }
}

// A start that fails: exit status, and the line the journal keeps at err.
struct FailedStart {
  ExitStatus status;
  std::string err;
};

FailedStart start_failing(const std::vector<std::string>& args, StderrIs stderr_is) {
  std::vector<std::string> argv{daemon_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult result = run_command(argv, {}, std::chrono::seconds(20), stderr_is);
  return {result.status, result.err};
}

TEST(Log, CannotListenIsAnErrorInTheJournalAndPlainElsewhere) {
  const UniqueFd holder = listen_on("127.0.0.1");
  const std::string port = std::to_string(local_port(holder.get()));
  const TempDir dir;
  const std::string config = dir.write("empty.conf", "").string();
  const std::vector<std::string> args{"--listen", "127.0.0.1", "--port", port, "-c", config};
  const std::string reason =
      "epollchatd: cannot listen on 127.0.0.1:" + port + ": Address already in use\n";

  const FailedStart journal = start_failing(args, StderrIs::journal);
  EXPECT_EQ(journal.status, ExitStatus::exited_with(1));
  EXPECT_EQ(journal.err, "<3>" + reason);

  const FailedStart plain = start_failing(args, StderrIs::pipe);
  EXPECT_EQ(plain.status, ExitStatus::exited_with(1));
  EXPECT_EQ(plain.err, reason);
}

TEST(Log, EveryFailedStartIsAnErrorInTheJournal) {
  const TempDir dir;
  const std::string bad = dir.write("bad.conf", "max-line = many\n").string();
  const std::string redis = dir.write("redis.conf",
                                      "redis = 127.0.0.1:1\n"
                                      "redis-password-file = /nonexistent/redis-password\n")
                                .string();
  // What each failure says is the business of other tests; here: that it is said, at err,
  // on every line.
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases{
      {{"-c", bad}, 78, bad + ":1: invalid value for max-line 'many'"},
      {{"-t", "-c", bad}, 78, bad + ":1: invalid value for max-line 'many'"},
      {{"-c", redis}, 78, "/nonexistent/redis-password"},
      {{"--bogus"}, 64, "unknown option '--bogus'\n<3>Try 'epollchatd --help'"},
  };
  for (const Case& c : cases) {
    const FailedStart failed = start_failing(c.args, StderrIs::journal);
    EXPECT_EQ(failed.status, ExitStatus::exited_with(c.status)) << c.reason;
    EXPECT_TRUE(failed.err.starts_with("<3>epollchatd: ")) << failed.err;
    EXPECT_NE(failed.err.find(c.reason), std::string::npos) << failed.err;
    for (const std::string& line : lines_of(failed.err)) {
      EXPECT_TRUE(line.starts_with("<3>")) << line;
    }
  }
}

TEST(Log, DebugTellsRenamesAndMovesButNeverWhatIsSaid) {
  DaemonProcess daemon(DaemonOptions::with_args({"--log-level", "debug"}));
  auto [a, b] = join_quiet<2>(daemon.port());
  const std::string a_number = std::to_string(a.id);
  const std::string b_number = std::to_string(b.id);
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));
  EXPECT_TRUE(daemon.wait_for_stderr(
      "client #" + a_number + " renamed from " + lines::client_name(a.id) + " to alice\n",
      kLogTimeout))
      << daemon.stderr_text();
  ASSERT_TRUE(join_room_after_notices(a, "games", 1));
  EXPECT_TRUE(daemon.wait_for_stderr("client #" + a_number + " (alice) moved from lobby to games\n",
                                     kLogTimeout))
      << daemon.stderr_text();
  ASSERT_TRUE(join_room_after_notices(b, "games", 2));
  EXPECT_TRUE(daemon.wait_for_stderr(
      "client #" + b_number + " (" + b.name + ") moved from lobby to games\n", kLogTimeout))
      << daemon.stderr_text();

  // What people say, in every form, reaches them and never the log.
  const std::vector<std::string> said{"chat-text-7f3a", "action-text-7f3a", "whisper-text-7f3a"};
  a.client.send(said[0] + "\n/me " + said[1] + "\n");
  ASSERT_TRUE(b.client.skip_until(
      [&](std::string_view line) { return line == lines::says("alice", said[0]); }));
  ASSERT_TRUE(b.client.expect_line(lines::action("alice", said[1])));
  b.client.send("/msg alice " + said[2] + "\n");
  ASSERT_TRUE(a.client.skip_until(
      [&](std::string_view line) { return line == lines::whispers(b.name, said[2]); }));

  stop(daemon);
  const std::string log = daemon.stderr_text();
  for (const std::string& text : said) EXPECT_EQ(log.find(text), std::string::npos) << text;
}

}  // namespace
}  // namespace epollchat::test
