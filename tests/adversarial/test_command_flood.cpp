// Command floods: 20 clients each write thousands of /who lines at once while 1,000 idle
// clients are connected. /who costs O(members of the room), never O(all clients), and one
// loop turn does a bounded amount of work per connection (a /who counts as 16 lines of the
// 256 a connection may have handled per turn), so a probe pair chatting in a room of its
// own keeps a round trip far under a second. Each spammer gets every reply and stays
// connected: one whose replies pile up is read no further until they drain, not cut off.
//
// Two scenes: each spammer alone in a room of its own (each /who lists one name, so what
// it costs is the server's search of all clients), and all spammers in the lobby with the
// idle clients (each /who then legitimately lists 1,020 names, about 14 KB).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kIdle = 1000;
constexpr std::size_t kSpammers = 20;
constexpr std::size_t kMinimumProbes = 20;
// Far above what a bounded turn takes even under ASan on a loaded machine, far below the
// seconds one turn of thousands of O(all clients) commands takes.
constexpr double kMaxRoundTripMs = 500;

struct FloodFigures {
  std::vector<double> round_trips;
  std::size_t during_flood = 0;  // probes sent before the last spammer had every reply
  double flood_seconds = 0;
};

// One chat round trip between the probes: A says ping, B answers pong.
::testing::AssertionResult round_trip(Member& a, Member& b, std::size_t n) {
  const std::string ping = "ping " + std::to_string(n);
  const std::string pong = "pong " + std::to_string(n);
  a.client.send(ping + "\n");
  if (auto got = b.client.skip_until_line(lines::says(a.id, ping), 60s); !got) return got;
  b.client.send(pong + "\n");
  return a.client.skip_until_line(lines::says(b.id, pong), 60s);
}

FloodFigures run_command_flood(bool spammers_in_lobby, std::size_t whos_per_spammer) {
  FloodFigures figures;
  const bool enough_descriptors = raise_open_file_limit(kIdle + kSpammers + 200);
  EXPECT_TRUE(enough_descriptors) << "RLIMIT_NOFILE too low for " << kIdle << " clients";
  if (!enough_descriptors) return figures;
  DaemonProcess daemon(DaemonOptions::with_args({"--max-clients", "4000", "--max-rate", "0"}));
  NotifyDrain notify_drain(daemon.notify());

  std::vector<Member> idle;
  idle.reserve(kIdle);
  for (std::size_t i = 0; i < kIdle; ++i) idle.push_back(join(daemon.port()));
  std::vector<Member> spammers;
  for (std::size_t i = 0; i < kSpammers; ++i) {
    spammers.push_back(join(daemon.port()));
    if (!spammers_in_lobby) {
      EXPECT_TRUE(join_room_after_notices(spammers.back(), "w" + std::to_string(i), 1, 10s));
    }
  }
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  EXPECT_TRUE(join_room_after_notices(a, "probe", 1, 10s));
  EXPECT_TRUE(join_room_after_notices(b, "probe", 2, 10s));
  EXPECT_TRUE(a.client.skip_until_line(lines::joined(b.id, 2), 10s));
  if (::testing::Test::HasFailure()) return figures;

  // The spammers read their replies in the background, counting the head lines of /who
  // replies ("*** N online: ...").
  std::vector<std::size_t> replies(kSpammers, 0);
  std::vector<int> fds;
  for (const Member& spammer : spammers) fds.push_back(spammer.client.fd());
  BackgroundLines spam_replies(fds, [&](std::size_t who, std::string_view line) {
    if (lines::parse_who_head(line)) ++replies[who];
  });
  const auto all_replied = [&] {
    return std::all_of(replies.begin(), replies.end(),
                       [&](std::size_t count) { return count == whos_per_spammer; });
  };

  std::string whos;
  for (std::size_t i = 0; i < whos_per_spammer; ++i) whos += "/who\n";
  const auto start = Clock::now();
  for (Member& spammer : spammers) spammer.client.send(whos, 60s);

  const Deadline deadline(180s);
  bool flood_over = false;
  while (!flood_over || figures.round_trips.size() < kMinimumProbes) {
    if (deadline.has_expired()) {
      ADD_FAILURE() << "the flood was not over within 180 s";
      break;
    }
    const bool during = !spam_replies.locked(all_replied);
    const auto sent = Clock::now();
    const auto answered = round_trip(a, b, figures.round_trips.size());
    if (!answered) {
      ADD_FAILURE() << "probe round trip " << figures.round_trips.size() << ": "
                    << answered.message();
      break;
    }
    figures.round_trips.push_back(elapsed_ms(sent));
    if (during) ++figures.during_flood;
    if (!flood_over && !during) figures.flood_seconds = elapsed_ms(start) / 1000.0;
    flood_over = !during;
  }
  const bool complete = spam_replies.wait_until(all_replied, 60s);
  if (figures.flood_seconds == 0) figures.flood_seconds = elapsed_ms(start) / 1000.0;
  const std::vector<std::size_t> got = spam_replies.locked([&] { return replies; });
  for (std::size_t i = 0; i < kSpammers; ++i) {
    EXPECT_FALSE(spam_replies.is_closed(i)) << "spammer " << i << " was disconnected after "
                                            << got[i] << " of " << whos_per_spammer << " replies";
    EXPECT_EQ(got[i], whos_per_spammer) << "spammer " << i << " is missing /who replies";
  }
  EXPECT_TRUE(complete);
  return figures;
}

void report_and_check(const char* scene, std::size_t whos, FloodFigures figures) {
  if (figures.round_trips.empty()) return;
  const double max = *std::max_element(figures.round_trips.begin(), figures.round_trips.end());
  const double p50 = percentile(figures.round_trips, 50);
  const double p99 = percentile(figures.round_trips, 99);
  std::cout << scene << ": " << kSpammers << " spammers x " << whos << " /who with " << kIdle
            << " idle clients, all replies in " << figures.flood_seconds << " s; "
            << figures.round_trips.size() << " probe round trips (" << figures.during_flood
            << " during the flood): p50 " << p50 << " ms, p99 " << p99 << " ms, max " << max
            << " ms\n";
  EXPECT_LT(max, kMaxRoundTripMs) << "a probe round trip waited behind the command flood";
}

TEST(CommandFlood, WhoFloodsInRoomsOfTheirOwnDoNotStallOthers) {
  constexpr std::size_t kWhos = 5000;
  report_and_check("spammers in rooms of their own", kWhos, run_command_flood(false, kWhos));
}

TEST(CommandFlood, WhoFloodsListingTheWholeLobbyDoNotStallOthers) {
  constexpr std::size_t kWhos = 1000;
  report_and_check("spammers in the lobby", kWhos, run_command_flood(true, kWhos));
}

}  // namespace
}  // namespace epollchat::test
