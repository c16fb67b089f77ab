// Per-sender order across nodes: 3 nodes x 20 clients, each sending 500 lines at once; every
// client receives every other client's lines exactly once and in its sender's order, and
// never its own, while the link is up.
#include <gtest/gtest.h>
#include <poll.h>

#include <charconv>
#include <iostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

constexpr std::size_t kNodes = 3;
constexpr std::size_t kClientsPerNode = 20;
constexpr std::size_t kClients = kNodes * kClientsPerNode;
constexpr int kLinesEach = 500;
// Plain builds finish in seconds; this is for ASan+UBSan on a loaded two-core machine.
constexpr std::chrono::seconds kDeliveryTimeout{150};

TEST(ClusterOrder, EveryLineReachesEveryOtherClientOnceAndInOrder) {
  ClusterOptions options;
  // One test thread reads all 60 sockets; the order of lines is under test here, not the
  // cut-off of a reader that falls behind (tests/adversarial covers that), so a slow moment
  // of this reader must not cost a client its connection.
  options.node_args = {"--max-backlog", std::to_string(64 * 1024 * 1024)};
  Cluster cluster(options);

  std::vector<Member> members;
  std::unordered_map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < kClients; ++i) {
    members.push_back(join(cluster.port(i % kNodes)));
    ASSERT_TRUE(index_of.emplace(members.back().name, i).second)
        << "two clients named " << members.back().name;
  }
  // Every node has counted all 60 before anyone speaks.
  const std::string all_in_lobby = lines::lobby_rooms_reply(kClients);
  ASSERT_TRUE(settle({&members[0], &members[1], &members[2]}, all_in_lobby));

  // next[receiver][sender]: the line number the receiver expects next from that sender;
  // outstanding[receiver]: lines it still has to receive.
  std::vector<std::vector<int>> next(kClients, std::vector<int>(kClients, 0));
  std::vector<long long> outstanding(kClients, static_cast<long long>(kClients - 1) * kLinesEach);
  long long received = 0;
  std::vector<pollfd> fds;
  for (const auto& member : members) fds.push_back({member.client.fd(), POLLIN, 0});

  // Reads every socket until each receiver has nothing outstanding. Any line out of its
  // sender's order (lost, duplicated, reordered) or from the receiver itself fails at once.
  const auto receive_outstanding = [&](const Deadline& deadline) {
    constexpr std::string_view kSays = " says >> o ";
    std::size_t receivers_done = 0;
    for (const long long count : outstanding) receivers_done += count == 0 ? 1 : 0;
    const auto start = Clock::now();
    while (receivers_done < kClients) {
      const int ready = ::poll(fds.data(), fds.size(), deadline.poll_timeout());
      ASSERT_GT(ready, 0) << "timed out after " << elapsed_ms(start) << " ms with "
                          << receivers_done << " of " << kClients << " receivers complete, "
                          << received << " lines received";
      for (std::size_t r = 0; r < kClients; ++r) {
        if (fds[r].revents == 0) continue;
        auto& member = members[r];
        const bool open = member.client.receive_available();
        while (const auto line = member.client.take_buffered_line()) {
          if (line->starts_with("*** ")) {
            // Join notices of clients that connected after this one, still on their way.
            ASSERT_NE(line->find(" joined ("), std::string::npos)
                << member.name << " got an unexpected notice: " << escape_bytes(*line);
            continue;
          }
          const auto says = line->find(kSays);
          ASSERT_NE(says, std::string::npos) << member.name << ": " << escape_bytes(*line);
          const auto sender = index_of.find(line->substr(0, says));
          ASSERT_NE(sender, index_of.end()) << member.name << ": " << escape_bytes(*line);
          const std::size_t s = sender->second;
          ASSERT_NE(s, r) << member.name << " got its own line: " << *line;
          int n = -1;
          const char* digits = line->data() + says + kSays.size();
          const auto [end, error] = std::from_chars(digits, line->data() + line->size(), n);
          ASSERT_TRUE(error == std::errc{} && end == line->data() + line->size())
              << member.name << ": " << escape_bytes(*line);
          ASSERT_EQ(n, next[r][s]) << member.name << ": line " << next[r][s] << " from "
                                   << members[s].name << " lost, duplicated or out of order";
          ASSERT_GT(outstanding[r], 0) << member.name << ": one line too many: " << *line;
          ++next[r][s];
          ++received;
          if (--outstanding[r] == 0) ++receivers_done;
        }
        ASSERT_TRUE(open) << member.name << " was disconnected";
      }
    }
  };

  const auto start = Clock::now();
  for (auto& member : members) {
    std::string burst;
    for (int n = 0; n < kLinesEach; ++n) burst += "o " + std::to_string(n) + "\n";
    member.client.send(burst);
  }
  receive_outstanding(Deadline(kDeliveryTimeout));
  if (HasFatalFailure()) return;
  const double ms = elapsed_ms(start);
  std::cout << kNodes << " nodes x " << kClientsPerNode << " clients x " << kLinesEach
            << " lines: " << received << " deliveries in " << ms << " ms\n";
  EXPECT_EQ(received, static_cast<long long>(kClients) * (kClients - 1) * kLinesEach);

  // A duplicate that came after the last expected line would not have been read yet: one
  // more line from one client of each node is a fence on every path, and it must be the
  // next line from its sender everywhere.
  for (std::size_t s = 0; s < kNodes; ++s) {
    members[s].client.send("o " + std::to_string(kLinesEach) + "\n");
    for (std::size_t r = 0; r < kClients; ++r) outstanding[r] += r == s ? 0 : 1;
  }
  receive_outstanding(Deadline(kCrossNodeTimeout));
}

}  // namespace
}  // namespace epollchat::test
