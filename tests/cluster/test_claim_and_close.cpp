// A session the server closes is never touched again, even when Redis answers its nickname
// claim in the same loop turn. A reader that stops reading is cut off by the stall check
// (3 s without progress while congested); if that happens in the turn in which the answer
// to its /nick arrives, the answer must not resume reading on the closed connection, which
// is destroyed at the end of that turn. To line the two up, the node is stopped (SIGSTOP)
// across the moment the cut-off falls due while Redis, stopped since the claim, answers it;
// when the node continues, both are in one batch of events. Under ASan a connection
// resumed after its destruction is a heap-use-after-free report.
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>
#include <cerrno>
#include <csignal>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

// Far more than the kernel buffers between the node and a reader that reads nothing take,
// so that the reader's output backs up past half of max-backlog (1 MiB by default).
constexpr std::size_t kFloodBytes = 8 * 1024 * 1024;
// The stall check cuts a congested reader off 3 to 3.25 s after its last progress; the
// flood backs it up within a fraction of a second.
constexpr auto kBeforeCutOff = std::chrono::seconds(2);
constexpr auto kAfterCutOff = std::chrono::seconds(4);

// Sends as much of `bytes` as the connection takes until it makes no progress for 200 ms.
std::size_t send_what_fits(ChatClient& client, std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        ::send(client.fd(), bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
    pollfd entry{client.fd(), POLLOUT, 0};
    if (::poll(&entry, 1, 200) <= 0) break;
  }
  return sent;
}

TEST(ClaimAndClose, AReaderCutOffInTheTurnItsClaimIsAnsweredIsNeverTouchedAgain) {
  // Built member by member: GCC 12 at -O3 warns falsely about a designated initializer
  // with a vector here (maybe-uninitialized in ~vector).
  ClusterOptions options;
  options.nodes = 1;
  options.node_args = {"--log-level", "debug"};
  Cluster cluster(std::move(options));
  DaemonProcess& node = cluster.node(0);
  // In a room of its own: its /rooms replies prove the node still serves.
  Member watcher = join(cluster.port(0));
  ASSERT_TRUE(join_room(watcher, "watch", 1, kCrossNodeTimeout));
  Member reader = join(cluster.port(0), ConnectOptions::with_receive_buffer(4096));
  Member flooder = join(cluster.port(0));
  ASSERT_TRUE(settle({&watcher}, "*** Rooms: lobby (2), watch (1)"));

  const auto flooded_at = Clock::now();
  const std::string line = std::string(4000, 'f') + "\n";
  std::string flood;
  while (flood.size() < kFloodBytes) flood += line;
  const std::size_t sent = send_what_fits(flooder.client, flood);
  // Waiting is the subject here: the reader must be congested, but not yet cut off.
  std::this_thread::sleep_until(flooded_at + kBeforeCutOff);

  cluster.redis().pause();
  reader.client.send("/nick slow_reader\n");
  // Sent after the /nick: once its reply is in, the node has read the /nick and sent the
  // claim to Redis, and the reader reads nothing more until the answer.
  ASSERT_FALSE(query_rooms(watcher, Deadline(kCrossNodeTimeout)).empty());
  node.send_signal(SIGSTOP);
  std::this_thread::sleep_until(flooded_at + kAfterCutOff);
  cluster.redis().resume();
  // Redis reads the claim, which waits in its socket, before this later connection's PING.
  const bool answered = cluster.redis().ping(kReplyTimeout);
  node.send_signal(SIGCONT);
  ASSERT_TRUE(answered) << "Redis did not answer after SIGCONT";

  // The node goes on serving, without the reader.
  try {
    EXPECT_TRUE(settle({&watcher}, "*** Rooms: lobby (1), watch (1)"));
  } catch (const std::system_error& failure) {
    ADD_FAILURE() << "the node dropped the watcher's connection (" << failure.what() << ")";
  }
  const std::string log = node.stderr_text();
  std::cout << "flooded " << sent << " bytes; the node "
            << (log.find("read nothing for 3 s") != std::string::npos
                    ? "cut the reader off as stalled"
                    : "logged no stall cut-off")
            << "\n";
}

}  // namespace
}  // namespace epollchat::test
