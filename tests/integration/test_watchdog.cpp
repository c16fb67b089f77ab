// Watchdog: with WATCHDOG_USEC and WATCHDOG_PID naming the daemon, WATCHDOG=1
// arrives at half the interval, i.e. at least twice per interval.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/deadline.hpp"

namespace epollchat::test {
namespace {

constexpr auto kInterval = 400ms;

TEST(Watchdog, PingsAtLeastTwicePerInterval) {
  DaemonOptions options;
  options.env = {{"WATCHDOG_USEC", "400000"}};
  options.export_watchdog_pid = true;  // WATCHDOG_PID=<the daemon's own pid>
  DaemonProcess daemon(options);

  constexpr auto kWindow = 3s;
  std::vector<Clock::time_point> pings;
  const Deadline deadline(kWindow);
  while (!deadline.has_expired()) {
    const auto message = daemon.notify().receive(deadline.remaining());
    if (message && message->has("WATCHDOG=1")) pings.push_back(message->received_at);
  }
  ASSERT_GE(pings.size(), 2U) << "WATCHDOG=1 arrived " << pings.size() << " times in 3 s";

  double worst_gap_ms = 0;
  for (std::size_t i = 1; i < pings.size(); ++i) {
    worst_gap_ms = std::max(
        worst_gap_ms, std::chrono::duration<double, std::milli>(pings[i] - pings[i - 1]).count());
  }
  // The mean gap shows the half-interval design; a count over the window would fail when
  // a loaded machine delays a single ping past the window's end.
  const double mean_gap_ms =
      std::chrono::duration<double, std::milli>(pings.back() - pings.front()).count() /
      static_cast<double>(pings.size() - 1);
  std::cout << pings.size() << " WATCHDOG=1 in 3 s (interval 400 ms); mean gap " << mean_gap_ms
            << " ms, worst gap " << worst_gap_ms << " ms\n";
  ::testing::Test::RecordProperty("watchdog_pings_in_3s", std::to_string(pings.size()));
  EXPECT_LT(mean_gap_ms, 0.65 * 400.0) << "fewer than two pings per interval";
  // Half the interval is 200 ms; a gap reaching the interval would let systemd kill us.
  EXPECT_LT(worst_gap_ms, 400.0);
}

TEST(Watchdog, SilentWhenWatchdogPidNamesAnotherProcess) {
  DaemonOptions options;
  options.env = {{"WATCHDOG_USEC", "400000"}, {"WATCHDOG_PID", "1"}};
  DaemonProcess daemon(options);
  // Two intervals without a ping: sd_watchdog_enabled() said no.
  const auto ping = daemon.notify().wait_for("WATCHDOG=1", 2 * kInterval);
  EXPECT_FALSE(ping.has_value()) << "WATCHDOG=1 sent though WATCHDOG_PID is not the daemon";
}

}  // namespace
}  // namespace epollchat::test
