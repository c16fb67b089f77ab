// Room history against the built daemon: the exact lines a client reads when it connects to
// a lobby where chat was said and when it joins a room with /join, each line's time being
// the UTC second it was said; nothing with --history 0; a reload turns it on.
#include <signal.h>
#include <time.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

using namespace std::chrono_literals;

std::time_t now_utc() { return std::time(nullptr); }

// "[HH:MM:SS] " for `at`, UTC.
std::string stamp(std::time_t at) {
  std::tm utc{};
  gmtime_r(&at, &utc);
  char text[16];
  std::snprintf(text, sizeof text, "[%02d:%02d:%02d] ", utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text;
}

// The next line must be "[HH:MM:SS] `line`" with a time from `from` to `to` (both read from
// the clock around the moment the line was said).
::testing::AssertionResult expect_history_line(Member& member, std::string_view line,
                                               std::time_t from, std::time_t to) {
  const auto read = member.client.read_line();
  if (!read) return ::testing::AssertionFailure() << "no line; expected a history line " << line;
  for (std::time_t at = from; at <= to; ++at) {
    if (*read == stamp(at) + std::string(line)) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "got '" << *read << "', expected '" << stamp(from) << line << "' (a time from "
         << stamp(from) << "to " << stamp(to) << ")";
}

TEST(RoomHistory, ANewClientReadsTheLobbysLinesAfterItsWelcomeAndAJoinerTheRooms) {
  DaemonProcess daemon;
  auto [a, b] = join_quiet<2>(daemon.port());
  const std::time_t said_from = now_utc();
  a.client.send("hello\n");
  ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "hello")));
  b.client.send("/me waves\n");
  ASSERT_TRUE(a.client.expect_line(lines::action(b.name, "waves")));
  b.client.send("/msg #" + std::to_string(a.id) + " not for the record\n");
  ASSERT_TRUE(a.client.expect_line(lines::whispers(b.name, "not for the record")));
  ASSERT_TRUE(b.client.expect_line(lines::sent_to(a.name)));
  const std::time_t said_to = now_utc();

  Member c = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(c.id, 3)));
  ASSERT_TRUE(b.client.expect_line(lines::joined(c.id, 3)));
  EXPECT_TRUE(c.client.expect_line("*** History:"));
  EXPECT_TRUE(expect_history_line(c, lines::says(a.id, "hello"), said_from, said_to));
  EXPECT_TRUE(expect_history_line(c, lines::action(b.name, "waves"), said_from, said_to));
  EXPECT_TRUE(c.client.expect_line("*** End of history."));
  a.client.send("live\n");
  EXPECT_TRUE(c.client.expect_line(lines::says(a.id, "live")));
  ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "live")));

  // A room: a and b move to dev and talk; c follows.
  a.client.send("/join dev\n");
  ASSERT_TRUE(a.client.expect_line(lines::now_in("dev", 1)));
  ASSERT_TRUE(b.client.expect_line(lines::left(a.id, 2)));
  b.client.send("/join dev\n");
  ASSERT_TRUE(b.client.expect_line(lines::now_in("dev", 2)));
  ASSERT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
  const std::time_t dev_from = now_utc();
  b.client.send("in dev\n");
  ASSERT_TRUE(a.client.expect_line(lines::says(b.id, "in dev")));
  const std::time_t dev_to = now_utc();
  ASSERT_TRUE(c.client.expect_line(lines::left(a.id, 2)));
  ASSERT_TRUE(c.client.expect_line(lines::left(b.id, 1)));

  c.client.send("/join dev\n");
  EXPECT_TRUE(c.client.expect_line(lines::now_in("dev", 3)));
  EXPECT_TRUE(c.client.expect_line("*** History:"));
  EXPECT_TRUE(expect_history_line(c, lines::says(b.id, "in dev"), dev_from, dev_to));
  EXPECT_TRUE(c.client.expect_line("*** End of history."));
  a.client.send("after\n");
  EXPECT_TRUE(c.client.expect_line(lines::says(a.id, "after")));
}

TEST(RoomHistory, ZeroKeepsNothingAndAReloadTurnsItOn) {
  DaemonOptions options;
  options.config_text = "history = 0\n";
  DaemonProcess daemon(options);
  auto [a, b] = join_quiet<2>(daemon.port());
  a.client.send("unkept\n");
  ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "unkept")));

  Member c = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(c.id, 3)));
  a.client.send("marker\n");
  // The first line after the welcome: no history came before it.
  EXPECT_TRUE(c.client.expect_line(lines::says(a.id, "marker")));
  ASSERT_TRUE(b.client.skip_until_line(lines::says(a.id, "marker")));

  daemon.write_config("history = 5\n");
  daemon.send_signal(SIGHUP);
  ASSERT_TRUE(daemon.notify().wait_for("RELOADING=1", 5s).has_value());
  ASSERT_TRUE(daemon.notify().wait_for("READY=1", 5s).has_value());
  const std::time_t said_from = now_utc();
  a.client.send("kept\n");
  ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "kept")));
  ASSERT_TRUE(c.client.expect_line(lines::says(a.id, "kept")));
  const std::time_t said_to = now_utc();
  Member d = join(daemon.port());
  EXPECT_TRUE(d.client.expect_line("*** History:"));
  EXPECT_TRUE(expect_history_line(d, lines::says(a.id, "kept"), said_from, said_to));
  EXPECT_TRUE(d.client.expect_line("*** End of history."));
}

TEST(RoomHistory, TheOptionSetsHowManyLinesARoomKeeps) {
  DaemonProcess daemon(DaemonOptions::with_args({"--history", "1"}));
  auto [a, b] = join_quiet<2>(daemon.port());
  a.client.send("one\ntwo\n");
  ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "one")));
  ASSERT_TRUE(b.client.expect_line(lines::says(a.id, "two")));
  Member c = join(daemon.port());
  EXPECT_TRUE(c.client.expect_line("*** History:"));
  const auto line = c.client.read_line();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(lines::strip_history_time(*line).value_or(*line), lines::says(a.id, "two"));
  EXPECT_TRUE(c.client.expect_line("*** End of history."));
}

}  // namespace
}  // namespace epollchat::test
