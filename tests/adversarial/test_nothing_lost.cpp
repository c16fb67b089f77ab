// Nothing lost: 200 clients, 50 of them sending 2,000 numbered lines each, at the default
// max-backlog (1 MiB) though each client is sent 2.5 MB at once. Every line reaches every
// other client exactly once and in order per sender; one missing, duplicated or reordered
// line fails the test, and so does a client cut off: every client reads as fast as it can,
// and a reader that keeps up is never cut off.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr int kClients = 200;
constexpr int kSenders = 50;
constexpr long kLinesPerSender = 2000;

TEST(NothingLost, EveryLineReachesEveryOtherClientOnceInOrder) {
  DaemonProcess daemon(DaemonOptions::with_args({"--max-rate", "0"}));
  std::vector<Member> members;
  members.reserve(kClients);
  for (int i = 0; i < kClients; ++i) members.push_back(join(daemon.port()));

  std::unordered_map<int, std::size_t> sender_index;  // client id -> 0..kSenders-1
  for (int s = 0; s < kSenders; ++s)
    sender_index[members[static_cast<std::size_t>(s)].id] = static_cast<std::size_t>(s);
  std::vector<LineReader> readers;
  for (const Member& member : members) readers.emplace_back(member.client.fd());
  // next[client][sender]: the number of the next line expected.
  std::vector<std::vector<long>> next(kClients, std::vector<long>(kSenders, 0));
  std::vector<long> complete_senders(kClients, 0);
  long clients_done = 0;
  std::string error;
  long lines_received = 0;
  bool in_final_round = false;
  std::vector<bool> got_end(kClients, false);
  long ends = 0;
  const std::string end_marker = "end of test";

  auto on_line = [&](std::size_t who, std::string_view line) {
    const auto chat = lines::parse_chat_line(line);
    if (!chat) return;  // join notices
    if (chat->text == end_marker) {
      if (!got_end[who]) ++ends;
      got_end[who] = true;
      return;
    }
    const auto found = sender_index.find(chat->sender);
    const auto number = parse_number(chat->text);
    if (found == sender_index.end() || !number) {
      if (error.empty()) error = "unexpected line \"" + escape_bytes(line) + "\"";
      return;
    }
    ++lines_received;
    long& expected = next[who][found->second];
    if (*number != expected && error.empty()) {
      error = "client " + std::to_string(who) + " got line " + std::to_string(*number) +
              " from client #" + std::to_string(chat->sender) + " where " +
              std::to_string(expected) + " was due" +
              (*number < expected ? " (duplicate)" : " (missing lines)");
    }
    if (in_final_round && error.empty()) error = "a line arrived after all were complete";
    if (++expected == kLinesPerSender) {
      const long needed = static_cast<std::size_t>(who) < kSenders ? kSenders - 1 : kSenders;
      if (++complete_senders[who] == needed) ++clients_done;
    }
  };

  const auto start = Clock::now();
  for (int s = 0; s < kSenders; ++s) {
    std::string all;
    for (long i = 0; i < kLinesPerSender; ++i) all += std::to_string(i) + "\n";
    members[static_cast<std::size_t>(s)].client.send(all, 30s);
  }
  const bool complete = pump_lines(
      readers, on_line, [&] { return !error.empty() || clients_done == kClients; }, Deadline(120s));
  const double seconds = elapsed_ms(start) / 1000.0;
  ASSERT_EQ(error, "");
  ASSERT_TRUE(complete) << clients_done << " of " << kClients << " clients complete after "
                        << seconds << " s";

  // A last line from the last client: anything arriving before it now is a duplicate.
  in_final_round = true;
  members.back().client.send(end_marker + "\n");
  ASSERT_TRUE(pump_lines(
      readers, on_line, [&] { return !error.empty() || ends == kClients - 1; }, Deadline(30s)));
  EXPECT_EQ(error, "");
  for (const LineReader& reader : readers) EXPECT_FALSE(reader.is_closed());

  const long expected_total =
      kSenders * kLinesPerSender * (kClients - 1);  // every sender's lines, to all others
  std::cout << kClients << " clients, " << kSenders << " senders x " << kLinesPerSender
            << " lines: " << lines_received << " deliveries (expected " << expected_total << ") in "
            << seconds << " s, " << static_cast<double>(lines_received) / seconds
            << " lines/s, none missing, duplicated or reordered\n";
  EXPECT_EQ(lines_received, expected_total);
}

}  // namespace
}  // namespace epollchat::test
