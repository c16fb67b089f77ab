// SIGTERM and SIGINT: every client is told, the connections close, STOPPING=1 is sent and
// the daemon exits with status 0.
#include <gtest/gtest.h>

#include <csignal>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class Shutdown : public ::testing::TestWithParam<int> {};

TEST_P(Shutdown, ClientsAreToldStoppingIsSentAndExitIsZero) {
  DaemonProcess daemon;
  Member a = join(daemon.port());
  Member b = join(daemon.port());
  ASSERT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));

  daemon.send_signal(GetParam());
  EXPECT_TRUE(a.client.expect_line(lines::kShuttingDown));
  EXPECT_TRUE(b.client.expect_line(lines::kShuttingDown));
  EXPECT_TRUE(a.client.read_until_closed().has_value()) << "a's connection was not closed";
  EXPECT_TRUE(b.client.read_until_closed().has_value()) << "b's connection was not closed";
  EXPECT_TRUE(daemon.notify().wait_for("STOPPING=1", 5s).has_value()) << "no STOPPING=1";
  EXPECT_EQ(daemon.wait_exit(10s), ExitStatus::exited_with(0));
}

INSTANTIATE_TEST_SUITE_P(Signals, Shutdown, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return param_info.param == SIGTERM ? "SIGTERM" : "SIGINT";
                         });

TEST(ShutdownIdle, SigtermWithoutClientsExitsZero) {
  DaemonProcess daemon;
  daemon.send_signal(SIGTERM);
  EXPECT_TRUE(daemon.notify().wait_for("STOPPING=1", 5s).has_value()) << "no STOPPING=1";
  EXPECT_EQ(daemon.wait_exit(10s), ExitStatus::exited_with(0));
}

}  // namespace
}  // namespace epollchat::test
