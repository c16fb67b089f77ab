// A restart under load: 1,000 clients in 20 rooms keep chatting while the daemon is
// restarted with its file descriptor store (the test plays the service manager). Every line
// reaches every other member of its room exactly once and in order per sender, across the
// restart; each client gets one restart notice and sees no join or leave. Prints (does not
// assert) the gap each client saw around the restart: the longest silence between the last
// line it received before SIGTERM and the first one after READY=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "adversarial.hpp"
#include "support/chat_client.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/service_manager.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kClients = 1000;
constexpr std::size_t kRooms = 20;
constexpr std::size_t kPerRoom = kClients / kRooms;
constexpr long kLinesPerClient = 40;
// Each client sends a line this often, the clients spread evenly over it, so every member
// receives a line every few milliseconds and a gap shows.
constexpr milliseconds kLineInterval = 250ms;

std::string room_of(std::size_t index) { return "room" + std::to_string(index % kRooms); }

TEST(RestartCrowd, EveryLineOnceAndInOrderThroughARestart) {
  ASSERT_TRUE(raise_open_file_limit(3 * kClients + 200))
      << "this test needs " << 3 * kClients + 200 << " descriptors (client sockets and the store)";
  ServiceManagerOptions options;
  options.extra_args = {"--max-clients", std::to_string(2 * kClients)};
  options.fd_store_max = 2 * kClients + 16;
  options.nofile_limit = 4 * kClients + 200;
  ServiceManager manager(options);
  const std::uint16_t port = manager.port();

  // Everyone joins and goes to a room at once, so the lobby stays nearly empty.
  std::vector<Member> members;
  members.reserve(kClients);
  std::unordered_map<int, std::size_t> index_of;  // client id -> index
  for (std::size_t i = 0; i < kClients; ++i) {
    members.push_back(join(port));
    members.back().client.send("/join " + room_of(i) + "\n");
    index_of[members.back().id] = i;
  }
  std::vector<LineReader> readers;
  for (const Member& member : members) readers.emplace_back(member.client.fd());

  // Setup: each sees its move, then says "ready"; once a member has its room mates' "ready"
  // lines, every notice of the setup is behind it and its stream is quiet.
  std::vector<bool> moved(kClients, false);
  std::size_t moved_count = 0;
  ASSERT_TRUE(pump_lines(
      readers,
      [&](std::size_t who, std::string_view line) {
        if (!moved[who] && line.starts_with("*** You are now in " + room_of(who) + " (")) {
          moved[who] = true;
          ++moved_count;
        }
      },
      [&] { return moved_count == kClients; }, Deadline(120s)))
      << moved_count << " of " << kClients << " moved to their rooms";
  for (Member& member : members) member.client.send("ready\n");
  std::vector<std::size_t> ready_seen(kClients, 0);
  std::size_t settled = 0;
  ASSERT_TRUE(pump_lines(
      readers,
      [&](std::size_t who, std::string_view line) {
        const auto chat = lines::parse_chat_line(line);
        if (chat && chat->text == "ready" && ++ready_seen[who] == kPerRoom - 1) ++settled;
      },
      [&] { return settled == kClients; }, Deadline(120s)))
      << settled << " of " << kClients << " settled";
  ASSERT_TRUE(manager.wait_for_store(
      [](const std::vector<std::string>& names) { return names.size() == kClients + 1; }, 30s))
      << manager.stored_names().size() << " fds stored for " << kClients << " clients";

  // The chat, with the restart on a thread of its own a third of the way through.
  std::vector<std::vector<long>> next(kClients, std::vector<long>(kClients / kRooms, 0));
  std::vector<std::size_t> complete(kClients, 0);  // room mates whose lines all arrived
  std::vector<int> notices(kClients, 0);
  std::vector<std::vector<Clock::time_point>> received(kClients);
  std::size_t done = 0;
  std::string error;
  const auto slot_of = [](std::size_t index) { return index / kRooms; };
  const auto on_line = [&](std::size_t who, std::string_view line) {
    const auto now = Clock::now();
    received[who].push_back(now);
    const auto chat = lines::parse_chat_line(line);
    if (!chat) {
      if (line == lines::restarted(members[who].name, room_of(who)) && notices[who]++ == 0) {
        if (complete[who] == kPerRoom - 1) ++done;
        return;
      }
      if (error.empty()) {
        error = members[who].name + " got \"" + escape_bytes(line) + "\"" +
                (notices[who] > 1 ? " (a second restart notice)" : "");
      }
      return;
    }
    const auto sender = index_of.find(chat->sender);
    const auto number = parse_number(chat->text);
    if (sender == index_of.end() || !number || room_of(sender->second) != room_of(who)) {
      if (error.empty()) error = members[who].name + " got \"" + escape_bytes(line) + "\"";
      return;
    }
    long& expected = next[who][slot_of(sender->second)];
    if (*number != expected && error.empty()) {
      error = members[who].name + " got line " + std::to_string(*number) + " from " +
              members[sender->second].name + " where " + std::to_string(expected) + " was due" +
              (*number < expected ? " (duplicate)" : " (lines missing)");
    }
    if (++expected == kLinesPerClient && ++complete[who] == kPerRoom - 1 && notices[who] == 1) {
      ++done;
    }
  };

  std::vector<long> sent(kClients, 0);
  std::vector<Clock::time_point> due(kClients);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < kClients; ++i) {
    due[i] = start + kLineInterval * static_cast<long>(i) / static_cast<long>(kClients);
  }
  const auto restart_at = start + kLineInterval * (kLinesPerClient / 3);
  std::atomic<bool> restarted = false;
  Clock::time_point sigterm_at{};
  Clock::time_point ready_at{};
  std::string restart_error;
  std::thread restarter;

  std::vector<pollfd> fds(kClients);
  for (std::size_t i = 0; i < kClients; ++i) fds[i] = {readers[i].fd(), POLLIN, 0};
  const Deadline deadline(240s);
  while (done < kClients && error.empty() && !deadline.has_expired()) {
    const auto now = Clock::now();
    if (!restarter.joinable() && now >= restart_at) {
      restarter = std::thread([&] {
        sigterm_at = Clock::now();
        try {
          EXPECT_EQ(manager.restart(), ExitStatus::exited_with(0));
        } catch (const std::exception& failure) {
          restart_error = failure.what();
        }
        ready_at = Clock::now();
        restarted = true;
      });
    }
    for (std::size_t i = 0; i < kClients; ++i) {
      if (sent[i] == kLinesPerClient || due[i] > now) continue;
      members[i].client.send(std::to_string(sent[i]++) + "\n");
      due[i] += kLineInterval;
    }
    if (::poll(fds.data(), fds.size(), 5) < 0 && errno != EINTR) {
      FAIL() << "poll: " << std::strerror(errno);
    }
    for (std::size_t i = 0; i < kClients; ++i) {
      if (fds[i].revents == 0) continue;
      if (!readers[i].read_available([&](std::string_view line) { on_line(i, line); })) {
        fds[i].fd = -1;
        if (error.empty()) error = members[i].name + "'s connection closed";
      }
    }
  }
  if (restarter.joinable()) restarter.join();
  ASSERT_EQ(restart_error, "");
  ASSERT_TRUE(restarted);
  ASSERT_EQ(error, "");
  ASSERT_EQ(done, kClients) << "clients with every line and the notice, after "
                            << elapsed_ms(start) / 1000 << " s";
  const std::string log = manager.log();
  EXPECT_NE(log.find("restarting: handing on " + std::to_string(kClients) + " clients"),
            std::string::npos)
      << log;
  EXPECT_TRUE(manager.wait_for_log(
      "restored " + std::to_string(kClients) + " clients from the previous process", 5s))
      << manager.log();

  // The new process keeps every client's socket in the store, as the old one did.
  EXPECT_TRUE(manager.wait_for_store(
      [](const std::vector<std::string>& names) { return names.size() == kClients + 1; }, 30s))
      << manager.stored_names().size() << " fds stored for " << kClients << " clients";

  // The gap each client saw: the longest silence from its last line before SIGTERM to its
  // first line after READY=1.
  std::vector<double> gaps;
  for (const auto& times : received) {
    std::size_t first = 0;
    while (first + 1 < times.size() && times[first + 1] <= sigterm_at) ++first;
    double gap = 0;
    for (std::size_t k = first; k + 1 < times.size(); ++k) {
      gap =
          std::max(gap, std::chrono::duration<double, std::milli>(times[k + 1] - times[k]).count());
      if (times[k + 1] >= ready_at) break;
    }
    gaps.push_back(gap);
  }
  const double restart_ms =
      std::chrono::duration<double, std::milli>(ready_at - sigterm_at).count();
  std::cout << kClients << " clients in " << kRooms << " rooms, " << kLinesPerClient
            << " lines each, every line delivered once and in order across the restart\n"
            << "restart (SIGTERM to READY=1): " << restart_ms << " ms\n"
            << "gap per client (ms): min " << percentile(gaps, 0) << ", median "
            << percentile(gaps, 50) << ", p99 " << percentile(gaps, 99) << ", max "
            << percentile(gaps, 100) << "\n";
}

}  // namespace
}  // namespace epollchat::test
