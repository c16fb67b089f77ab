// Nothing lost: 40 clients each send 300 lines at once; every line reaches every other
// client exactly once and in its sender's order, and never its sender.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kClients = 40;
constexpr int kLinesEach = 300;

std::string text_of(int sender, int n) {
  return "from " + std::to_string(sender) + " line " + std::to_string(n);
}

TEST(FanoutOrder, EveryLineReachesEveryOtherClientInOrder) {
  DaemonProcess daemon;
  std::vector<Member> members;
  // Everyone is welcomed (and so is in the room) before anyone sends.
  for (int i = 0; i < kClients; ++i) members.push_back(join(daemon.port()));

  for (auto& member : members) {
    std::string burst;
    for (int n = 0; n < kLinesEach; ++n) burst += text_of(member.id, n) + "\n";
    member.client.send(burst);
  }

  // next[r][sender id]: the line number receiver r expects next from that sender.
  std::vector<std::map<int, int>> next(members.size());
  std::size_t complete = 0;
  std::vector<bool> done(members.size(), false);
  long long received = 0;
  const auto start = Clock::now();
  const Deadline deadline(90s);
  while (complete < members.size()) {
    std::vector<pollfd> fds;
    for (const auto& member : members) fds.push_back({member.client.fd(), POLLIN, 0});
    const int ready = ::poll(fds.data(), fds.size(), deadline.poll_timeout());
    ASSERT_GT(ready, 0) << "timed out with " << complete << " of " << members.size()
                        << " receivers complete, " << received << " lines received";
    for (std::size_t r = 0; r < members.size(); ++r) {
      if (fds[r].revents == 0) continue;
      auto& member = members[r];
      const bool open = member.client.receive_available();
      while (const auto line = member.client.take_buffered_line()) {
        if (line->starts_with("*** ")) continue;  // joins of later clients
        constexpr std::string_view kPrefix = "Client #";
        ASSERT_TRUE(line->starts_with(kPrefix)) << "unexpected line: " << escape_bytes(*line);
        int sender = 0;
        std::from_chars(line->data() + kPrefix.size(), line->data() + line->size(), sender);
        ASSERT_NE(sender, member.id) << "client " << member.id << " got its own line";
        int& expected = next[r][sender];
        ASSERT_EQ(*line, lines::says(sender, text_of(sender, expected)))
            << "client " << member.id << ": line " << expected << " from " << sender
            << " lost, duplicated or out of order";
        ++expected;
        ++received;
      }
      ASSERT_TRUE(open) << "client " << member.id << " was disconnected";
      if (!done[r] && next[r].size() == members.size() - 1 &&
          std::all_of(next[r].begin(), next[r].end(),
                      [](const auto& entry) { return entry.second == kLinesEach; })) {
        done[r] = true;
        ++complete;
      }
    }
  }
  const double ms = elapsed_ms(start);
  std::cout << kClients << " clients x " << kLinesEach << " lines: " << received
            << " deliveries in " << ms << " ms\n";
  EXPECT_EQ(received, static_cast<long long>(kClients) * (kClients - 1) * kLinesEach);
}

}  // namespace
}  // namespace epollchat::test
