// Listening: a port already in use is a clear error with exit status 1; IPv6 loopback works;
// an address no interface has yet is listened on (freebind) and reported ready; --opt=value
// is accepted like --opt value.
#include <gtest/gtest.h>

#include <string>

#include "support/daemon_process.hpp"
#include "support/loopback.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

TEST(Listen, PortInUseExitsOneNamingTheAddress) {
  const UniqueFd holder = listen_on("127.0.0.1");
  const std::string port = std::to_string(local_port(holder.get()));
  const TempDir dir;
  const auto config = dir.write("empty.conf", "");
  const auto result =
      run_command({daemon_path(), "--listen", "127.0.0.1", "--port", port, "-c", config.string()});
  EXPECT_EQ(result.status, ExitStatus::exited_with(1));
  EXPECT_NE(result.err.find("epollchatd: cannot listen on 127.0.0.1:" + port +
                            ": Address already in use"),
            std::string::npos)
      << "stderr: " << result.err;
}

TEST(Listen, Ipv6LoopbackServesClients) {
  DaemonOptions options;
  options.listen = "::1";
  DaemonProcess daemon(options);
  EXPECT_EQ(daemon.ready_message().field("STATUS"),
            "Listening on [::1]:" + std::to_string(daemon.port()));
  Member a = join(daemon.port(), ConnectOptions::to_host("::1"));
  Member b = join(daemon.port(), ConnectOptions::to_host("::1"));
  ASSERT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
  a.client.send("over v6\n");
  EXPECT_TRUE(b.client.expect_line(lines::says(a.id, "over v6")));
}

// 192.0.2.10 and 2001:db8::10 are documentation addresses, on no interface here: as at boot
// before DHCP or DAD gives the host its address, the daemon still starts and is ready. Runs
// unprivileged.
TEST(Listen, AnAddressThatDoesNotExistYetStartsTheDaemon) {
  for (const std::string host : {"192.0.2.10", "2001:db8::10"}) {
    DaemonOptions options;
    options.listen = host;
    DaemonProcess daemon(options);
    const std::string shown = host.find(':') == std::string::npos ? host : "[" + host + "]";
    EXPECT_EQ(daemon.ready_message().field("STATUS"),
              "Listening on " + shown + ":" + std::to_string(daemon.port()));
    EXPECT_FALSE(daemon.has_exited());
  }
}

TEST(Listen, EqualsFormOfOptionsWorks) {
  DaemonOptions options =
      DaemonOptions::with_args({"--listen=127.0.0.1", "--port=0", "--max-clients=1"});
  options.listen.reset();
  options.port.reset();
  DaemonProcess daemon(options);
  Member a = join(daemon.port());
  ChatClient refused(daemon.port());
  EXPECT_TRUE(refused.expect_line(lines::server_full(1)));
}

}  // namespace
}  // namespace epollchat::test
