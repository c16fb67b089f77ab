// Idle rooms: a room nobody is talking in holds no 64 KiB chunk of its own, so 1,000
// clients each in a room of its own cost about what 1,000 idle clients cost (under 1 KiB
// each; under 3 KiB with AddressSanitizer).
//
// A room formats what it sends (chat, notices, replies to its members) into its current
// 64 KiB chunk. Memory a room merely reserved is not resident (unless malloc fills it, as
// with MALLOC_PERTURB_, which meson sets), so each room has its chunk filled as a
// conversation would fill it: 1,000 clients connect, each moving on at once to a room of
// its own; then in each room its one member asks for /help 72 times (64 KB of replies,
// all read) and says one line, which nobody hears (it is told it is alone). Then every
// room is idle, and the daemon's RSS must have grown by a few MiB in all.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kClients = 1000;
// /help replies of 899 bytes that fill a room's chunk (with the notices around them).
constexpr int kHelps = 72;
// 1,000 clients with a room each and the allocator's slack; one 64 KiB chunk per room
// would be 64 MiB.
constexpr std::size_t kGrowthLimit = 8 * 1024 * 1024;

double kib_per_client(std::size_t from, std::size_t to) {
  return static_cast<double>(to > from ? to - from : 0) / kClients / 1024;
}

TEST(IdleRooms, ThousandClientsInRoomsOfTheirOwnCostLittleMemory) {
  ASSERT_TRUE(raise_open_file_limit(kClients + 200))
      << "RLIMIT_NOFILE too low for " << kClients << " clients";
  DaemonOptions options = DaemonOptions::with_args({"--max-clients", "4000"});
  // Each of the 72,000 replies is a freed string.
  with_small_asan_quarantine(options);
  DaemonProcess daemon(options);
  NotifyDrain notify_drain(daemon.notify());
  const std::size_t rss_start = resident_set_bytes(daemon.pid());

  std::vector<Member> clients;
  clients.reserve(kClients);
  for (std::size_t i = 0; i < kClients; ++i) {
    Member& member = clients.emplace_back(join(daemon.port()));
    const std::string room = "room" + std::to_string(i);
    ASSERT_TRUE(join_room(member, room, 1));
  }
  const std::size_t rss_in_rooms = resident_set_bytes(daemon.pid());

  std::string conversation;
  for (int i = 0; i < kHelps; ++i) conversation += "/help\n";
  conversation += "hello, anyone?\n";
  const auto start = Clock::now();
  for (Member& member : clients) {
    member.client.send(conversation);
    ASSERT_TRUE(member.client.skip_until_line(lines::kAlone));
  }
  const double seconds = elapsed_ms(start) / 1000.0;
  const std::size_t rss_after = resident_set_bytes(daemon.pid());
  const std::size_t growth = rss_after > rss_start ? rss_after - rss_start : 0;

  std::cout << kClients << " clients each in a room of its own: daemon RSS " << rss_start / 1024
            << " KiB -> " << rss_in_rooms / 1024 << " KiB ("
            << kib_per_client(rss_start, rss_in_rooms) << " KiB per client); after " << kHelps
            << " /help replies and an unheard line in "
            << "each room (" << seconds << " s): " << rss_after / 1024 << " KiB, "
            << kib_per_client(rss_in_rooms, rss_after) << " KiB more per client; growth "
            << growth / 1024 << " KiB in all (bound " << kGrowthLimit / 1024 << " KiB)\n";
  EXPECT_LT(growth, kGrowthLimit);
}

}  // namespace
}  // namespace epollchat::test
