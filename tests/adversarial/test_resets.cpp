// Resets and half-closes: peers that abort with RST while the server has output queued for
// them, peers that shut down their sending side and keep reading, and peers that vanish
// right after connecting. None crashes the daemon or leaks a descriptor, and a half-closed
// peer still receives what was queued for it before the server closes the connection.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <iostream>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

// Reads the observer's lines until `count` leave notices have arrived.
::testing::AssertionResult wait_for_leaves(ChatClient& observer, int count) {
  int leaves = 0;
  while (leaves < count) {
    const auto line = observer.read_line(10s);
    if (!line) return ::testing::AssertionFailure() << "only " << leaves << " leave notices";
    if (line->starts_with("*** Client #") && line->find(" left (") != std::string::npos) {
      ++leaves;
    }
  }
  return ::testing::AssertionSuccess();
}

// One round trip through the server, proving it still serves and has finished every close
// queued before (closes are processed at the end of the loop turn that saw them).
::testing::AssertionResult round_trip(Member& a, Member& b, const std::string& text) {
  a.client.send(text + "\n");
  return b.client.skip_until_line(lines::says(a.id, text));
}

TEST(Resets, ResetWhileServerHasOutputQueuedLeaksNothing) {
  DaemonProcess daemon;
  Member writer = join(daemon.port());
  Member observer = join(daemon.port());
  const std::size_t fds_before = settled_open_fds(daemon.pid());

  constexpr int kVictims = 20;
  constexpr int kLines = 128;  // 512 KiB for each victim, far more than its buffers hold
  std::string burst;
  for (int i = 0; i < kLines; ++i) {
    std::string text = "bulk " + std::to_string(i) + " ";
    text.resize(4000, 'z');
    burst += text + "\n";
  }
  for (int v = 0; v < kVictims; ++v) {
    Member victim = join(daemon.port(), ConnectOptions::with_receive_buffer(4096));
    ASSERT_TRUE(observer.client.skip_until_line(lines::joined(victim.id, 3)));
    writer.client.send(burst, 10s);
    // The observer has every line, so the server has queued them all for the victim too,
    // which cannot have taken them: output is pending when the RST arrives.
    std::string last = "bulk " + std::to_string(kLines - 1) + " ";
    last.resize(4000, 'z');
    ASSERT_TRUE(observer.client.skip_until_line(lines::says(writer.id, last)));
    victim.client.reset();
    ASSERT_TRUE(wait_for_leaves(observer.client, 1));
  }
  ASSERT_TRUE(round_trip(writer, observer, "still alive"));
  const std::size_t fds_after = settled_open_fds(daemon.pid());
  std::cout << kVictims << " peers reset with 512 KiB queued for each; daemon fds before "
            << fds_before << ", after " << fds_after << "\n";
  EXPECT_EQ(fds_after, fds_before);
  EXPECT_FALSE(daemon.has_exited());
}

TEST(Resets, HalfClosedPeerStillReceivesWhatWasQueuedThenIsClosed) {
  DaemonProcess daemon;
  Member observer = join(daemon.port());
  const std::size_t fds_before = settled_open_fds(daemon.pid());

  // In company first.
  Member peer = join(daemon.port());
  ASSERT_TRUE(observer.client.expect_line(lines::joined(peer.id, 2)));
  // A line too long (answered with a notice to the sender), a normal line, then EOF.
  peer.client.send(std::string(5000, 'x') + "\nsecond line\n");
  peer.client.shutdown_write();
  ASSERT_TRUE(peer.client.expect_line(lines::line_too_long(4096)));
  const auto rest = peer.client.read_until_closed(10s);
  ASSERT_TRUE(rest.has_value()) << "the server did not close the half-closed connection";
  EXPECT_EQ(*rest, "");
  EXPECT_TRUE(observer.client.expect_line(lines::says(peer.id, "second line")));
  EXPECT_TRUE(observer.client.expect_line(lines::left(peer.id, 1)));

  // Alone: two lines, each answered by a notice, then EOF; both notices still arrive.
  Member observer_gone = std::move(observer);
  observer_gone.client.close();
  Member lonely = join(daemon.port());
  // It arrives to the lobby's history: the peer's "second line".
  ASSERT_TRUE(lonely.client.expect_line(lines::kHistoryStart));
  ASSERT_TRUE(lonely.client.skip_until_line(lines::kHistoryEnd));
  lonely.client.send("anyone?\nhello?\n");
  lonely.client.shutdown_write();
  EXPECT_TRUE(lonely.client.expect_line(lines::kAlone));
  EXPECT_TRUE(lonely.client.expect_line(lines::kAlone));
  const auto after = lonely.client.read_until_closed(10s);
  ASSERT_TRUE(after.has_value()) << "the server did not close the half-closed connection";
  EXPECT_EQ(*after, "");

  Member last = join(daemon.port());
  ASSERT_TRUE(last.client.expect_line(lines::kHistoryStart));
  ASSERT_TRUE(last.client.skip_until_line(lines::kHistoryEnd));
  last.client.send("ping\n");
  ASSERT_TRUE(last.client.expect_line(lines::kAlone));
  const std::size_t fds_after = settled_open_fds(daemon.pid());
  std::cout << "half-closed peers got their notices and were closed; daemon fds with one "
            << "client before " << fds_before << ", after " << fds_after << "\n";
  EXPECT_EQ(fds_after, fds_before);
}

TEST(Resets, PeersVanishingRightAfterConnectLeakNothing) {
  DaemonProcess daemon;
  Member observer = join(daemon.port());
  const std::size_t fds_before = settled_open_fds(daemon.pid());
  constexpr int kPeers = 300;
  for (int i = 0; i < kPeers; ++i) {
    // Connected, never read the welcome: half close with FIN, half abort with RST.
    ChatClient peer(daemon.port());
    if (i % 2 == 0) {
      peer.reset();
    } else {
      peer.close();
    }
  }
  // A peer still there when the server accepts it joins, and leaves; one whose reset came
  // before its accept is closed without a word (nobody is left to tell). A client connected
  // after them all marks the end: the server accepts in order, so once it has joined, every
  // peer before it was dealt with, and what remains is the leaves of those that joined.
  Member sentinel = join(daemon.port());
  const std::string sentinel_joined = lines::client_name(sentinel.id) + " joined (";
  bool sentinel_seen = false;
  int joins = 0;
  int leaves = 0;
  while (!sentinel_seen || leaves < joins) {
    const auto line = observer.client.read_line(10s);
    ASSERT_TRUE(line.has_value()) << joins << " joins, " << leaves << " leaves";
    if (line->find(sentinel_joined) != std::string::npos) {
      sentinel_seen = true;
    } else if (line->find(" joined (") != std::string::npos) {
      ++joins;
    } else if (line->find(" left (") != std::string::npos) {
      ++leaves;
    }
  }
  EXPECT_EQ(leaves, joins);
  // The peers that closed with FIN are all still connected, half-closed, when accepted.
  EXPECT_GE(joins, kPeers / 2);
  EXPECT_LE(joins, kPeers);
  sentinel.client.close();
  ASSERT_TRUE(observer.client.expect_line(lines::left(sentinel.id, 1)));
  observer.client.send("alone?\n");
  ASSERT_TRUE(observer.client.expect_line(lines::kAlone));
  const std::size_t fds_after = settled_open_fds(daemon.pid());
  std::cout << kPeers << " peers vanished right after connecting (" << joins
            << " were accepted while still there, joined and left); daemon fds before "
            << fds_before << ", after " << fds_after << "\n";
  EXPECT_EQ(fds_after, fds_before);
}

}  // namespace
}  // namespace epollchat::test
