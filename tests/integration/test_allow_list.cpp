// allow: a peer outside the list reads "*** Connections from ADDR are not allowed here." and
// an orderly close, takes no id and counts as no client; the default list admits loopback over
// IPv4 and IPv6; an explicit list applies to the TLS listener too, before any handshake; a
// reload applies a new list to new connections; the log names a refused address once a
// minute, however often it comes back.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <string_view>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace epollchat::test {
namespace {

// Loopback sources other than 127.0.0.1: all of 127.0.0.0/8 is the loopback interface's.
constexpr std::string_view kSecondHost = "127.0.0.2";
constexpr std::string_view kThirdHost = "127.0.0.3";
constexpr int kExConfig = 78;

ConnectOptions from(std::string_view source) {
  return ConnectOptions::from_source(std::string(source));
}

// Connects from `options`' source and expects the refusal naming `address`, then an orderly
// close with nothing after the notice.
::testing::AssertionResult is_refused(std::uint16_t port, std::string_view address,
                                      ConnectOptions options = {}) {
  ChatClient client(port, std::move(options));
  if (auto first = client.expect_line(lines::not_allowed(address)); !first) return first;
  const auto rest = client.read_until_closed();
  if (!rest) return ::testing::AssertionFailure() << "still open after the notice";
  if (!rest->empty()) {
    return ::testing::AssertionFailure() << "more after the notice: " << escape_bytes(*rest);
  }
  if (client.was_reset()) return ::testing::AssertionFailure() << "reset instead of closed";
  return ::testing::AssertionSuccess();
}

// SIGHUP, then RELOADING=1 and READY=1: the new settings are in force.
void reload(DaemonProcess& daemon) {
  daemon.send_signal(SIGHUP);
  ASSERT_TRUE(daemon.notify().wait_for("RELOADING=1", 5s).has_value());
  ASSERT_TRUE(daemon.notify().wait_for("READY=1", 5s).has_value());
}

std::string refusal_record(std::string_view address) {
  return "connection from " + std::string(address) + " refused";
}

TEST(AllowList, RefusedPeerIsToldClosedAndNotCounted) {
  DaemonProcess daemon(DaemonOptions::with_args({"--allow", std::string(kSecondHost)}));
  EXPECT_TRUE(is_refused(daemon.port(), "127.0.0.1"));

  // The refused peer took no id and no place: the first admitted client is #1, alone.
  Member a = join(daemon.port(), from(kSecondHost));
  EXPECT_EQ(a.id, 1);
  a.client.send("anyone?\n");
  ASSERT_TRUE(a.client.expect_line(lines::kAlone));

  EXPECT_TRUE(is_refused(daemon.port(), "127.0.0.1"));
  Member b = join(daemon.port(), from(kSecondHost));
  EXPECT_EQ(b.id, 2);
  // a's next line is b's join with two online: nothing was said of the refused peers.
  EXPECT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
  b.client.send("only us\n");
  EXPECT_TRUE(a.client.expect_line(lines::says(b.id, "only us")));
}

TEST(AllowList, ListOfRangesAdmitsEachAndNothingElse) {
  DaemonProcess daemon(DaemonOptions::with_args({"--allow", "127.0.0.2/32, 127.0.0.3 ::1"}));
  Member a = join(daemon.port(), from(kSecondHost));
  Member b = join(daemon.port(), from(kThirdHost));
  EXPECT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
  EXPECT_TRUE(is_refused(daemon.port(), "127.0.0.1"));
  EXPECT_TRUE(is_refused(daemon.port(), "127.0.0.4", from("127.0.0.4")));
}

TEST(AllowList, DefaultAdmitsLoopback) {
  DaemonProcess v4;
  Member a = join(v4.port());
  Member b = join(v4.port(), from(kSecondHost));
  EXPECT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));

  DaemonOptions options;
  options.listen = "::1";
  DaemonProcess v6(options);
  Member c = join(v6.port(), ConnectOptions::to_host("::1"));
  Member d = join(v6.port(), ConnectOptions::to_host("::1"));
  EXPECT_TRUE(c.client.expect_line(lines::joined(d.id, 2)));
}

TEST(AllowList, Ipv6RangesAndTheIpv6Notice) {
  DaemonOptions options = DaemonOptions::with_args({"--allow", "fd00::/8"});
  options.listen = "::1";
  DaemonProcess daemon(options);
  EXPECT_TRUE(is_refused(daemon.port(), "::1", ConnectOptions::to_host("::1")));
}

// On "::" (with net.ipv6.bindv6only=0, the Linux default) an IPv4 peer arrives as
// ::ffff:127.0.0.1: it is matched and named as IPv4.
TEST(AllowList, Ipv4PeerOfAnIpv6ListenerIsSeenAsIpv4) {
  DaemonOptions options = DaemonOptions::with_args({"--allow", std::string(kSecondHost)});
  options.listen = "::";
  DaemonProcess daemon(options);
  EXPECT_TRUE(is_refused(daemon.port(), "127.0.0.1"));
  Member a = join(daemon.port(), from(kSecondHost));
  a.client.send("anyone?\n");
  EXPECT_TRUE(a.client.expect_line(lines::kAlone));
}

TEST(AllowList, ExplicitListRefusesTlsPeersInClearTextBeforeTheHandshake) {
  const TempDir dir;
  const CertificateFiles files(dir, "server");
  std::vector<std::string> args = tls_args(files);
  args.insert(args.end(), {"--allow", std::string(kSecondHost)});
  DaemonProcess daemon(DaemonOptions::with_args(args));

  // A client that has not begun a handshake reads the notice in clear text: the server
  // spent no TLS work on it (a TLS server says nothing before the client's hello).
  EXPECT_TRUE(is_refused(daemon.tls_port(), "127.0.0.1"));

  ConnectOptions allowed = ConnectOptions::over_tls(files.trusted_by);
  allowed.source = kSecondHost;
  Member a = join(daemon.tls_port(), allowed);
  EXPECT_EQ(a.id, 1);
  a.client.send("anyone?\n");
  EXPECT_TRUE(a.client.expect_line(lines::kAlone));
}

TEST(AllowList, ReloadAppliesANewListToNewConnections) {
  DaemonProcess daemon;
  Member a = join(daemon.port());

  daemon.write_config("allow = " + std::string(kSecondHost) + "\n");
  ASSERT_NO_FATAL_FAILURE(reload(daemon));

  EXPECT_TRUE(is_refused(daemon.port(), "127.0.0.1"));
  // The member connected before stays, and meets a newcomer the new list admits.
  Member b = join(daemon.port(), from(kSecondHost));
  EXPECT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));

  // Back to the default list: 127.0.0.1 is admitted again.
  daemon.write_config("");
  ASSERT_NO_FATAL_FAILURE(reload(daemon));
  Member c = join(daemon.port());
  EXPECT_TRUE(a.client.expect_line(lines::joined(c.id, 3)));
}

TEST(AllowList, AnExplicitListGovernsTheTlsListenerUntilItIsUnsetAgain) {
  const TempDir dir;
  const CertificateFiles files(dir, "server");
  DaemonProcess daemon(DaemonOptions::with_args(tls_args(files)));
  const auto over_tls = ConnectOptions::over_tls(files.trusted_by);
  Member a = join(daemon.tls_port(), over_tls);

  // Set explicitly, the list is the TLS listener's as well.
  daemon.write_config("allow = " + std::string(kSecondHost) + "\n");
  ASSERT_NO_FATAL_FAILURE(reload(daemon));
  EXPECT_TRUE(is_refused(daemon.tls_port(), "127.0.0.1"));

  daemon.write_config("");
  ASSERT_NO_FATAL_FAILURE(reload(daemon));
  Member b = join(daemon.tls_port(), over_tls);
  EXPECT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
}

TEST(AllowList, RepeatedRefusalsOfOneAddressAreLoggedOnce) {
  DaemonProcess daemon(DaemonOptions::with_args({"--allow", std::string(kSecondHost)}));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(is_refused(daemon.port(), "127.0.0.1"));
  // Another address is logged on its own; its record also proves that the daemon had logged
  // whatever it was going to log for the five before it.
  ASSERT_TRUE(is_refused(daemon.port(), std::string(kThirdHost), from(kThirdHost)));
  ASSERT_TRUE(daemon.wait_for_stderr(refusal_record(kThirdHost), 5s)) << daemon.stderr_text();

  const std::string log = daemon.stderr_text();
  EXPECT_EQ(count_of(log, refusal_record("127.0.0.1")), 1U) << log;
  EXPECT_EQ(count_of(log, refusal_record(kThirdHost)), 1U) << log;
}

TEST(AllowList, BadRangeInTheConfigFileIsAConfigurationError) {
  const TempDir dir;
  const auto config = dir.write("bad.conf", "port = 0\nallow = 10.0.0.0/8, 192.168.0.0/33\n");
  // The file, the line, and the entry at fault, not the whole list.
  const std::string where = config.string() + ":2:";
  const std::string what = "invalid address range '192.168.0.0/33'";
  for (const bool check_only : {true, false}) {
    std::vector<std::string> args = {daemon_path(), "-c", config.string()};
    if (check_only) args.emplace_back("--check-config");
    const auto result = run_command(args);
    EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig)) << "check only: " << check_only;
    EXPECT_NE(result.err.find(where), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(what), std::string::npos) << result.err;
  }
}

}  // namespace
}  // namespace epollchat::test
