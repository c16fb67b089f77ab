// Quiet log: at the default log level (info) a flood of connections that come and go
// writes (almost) nothing to the daemon's stderr. Per-connection lines ("client #N
// connected from ...", "client #N closed the connection", cut-offs) are debug-level, so a
// peer that connects in a loop cannot fill the journal.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>

#include "adversarial.hpp"
#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/notify_drain.hpp"

namespace epollchat::test {
namespace {

constexpr int kConnections = 1000;
constexpr long kMaxLines = 5;

TEST(QuietLog, ConnectDisconnectFloodWritesAlmostNothing) {
  DaemonProcess daemon;
  NotifyDrain notify_drain(daemon.notify());
  Member observer = join(daemon.port());
  const std::size_t log_before = daemon.stderr_text().size();

  for (int i = 0; i < kConnections; ++i) {
    Member member = join(daemon.port());
    if (i % 2 == 0) member.client.reset();  // half leave with RST, half with FIN
  }
  // Every one has come and gone once the observer read its leave notice.
  int leaves = 0;
  while (leaves < kConnections) {
    const auto line = observer.client.read_line(10s);
    ASSERT_TRUE(line.has_value()) << "only " << leaves << " leave notices";
    if (line->find(" left (") != std::string::npos) ++leaves;
  }

  const std::string added = daemon.stderr_text().substr(log_before);
  const long lines = std::count(added.begin(), added.end(), '\n');
  std::cout << kConnections << " connections came and went: " << lines
            << " lines on the daemon's stderr" << (lines > 0 ? ", the first: " : "")
            << escape_bytes(added.substr(0, added.find('\n'))) << "\n";
  EXPECT_LE(lines, kMaxLines);
}

}  // namespace
}  // namespace epollchat::test
