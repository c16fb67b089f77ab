// Socket activation: under systemd-socket-activate the daemon serves the socket it
// was passed, ignores --listen/--port, and binds nothing itself; a reload that finds the
// listener settings changed says that they did not apply.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <csignal>
#include <memory>
#include <string>

#include "support/daemon_process.hpp"
#include "support/loopback.hpp"
#include "support/member.hpp"
#include "support/process_stats.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

struct Family {
  const char* name;
  std::string host;  // what clients connect to
  int family;
};

class SocketActivation : public ::testing::TestWithParam<Family> {
 protected:
  // "127.0.0.1:PORT" or "[::1]:PORT", as systemd-socket-activate -l and the daemon's
  // STATUS= spell it.
  static std::string endpoint(const std::string& host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }

  // Starts the daemon under systemd-socket-activate on a free port, retrying if another
  // process takes the port between picking and binding. The daemon is told to listen on a
  // different port, which it must ignore: with --listen and --port, or with `listen = ` and
  // `port = ` in its config file if `port_in_file`.
  void start(bool port_in_file = false) {
    const std::string host = GetParam().host;
    for (int attempt = 0; attempt < 5 && !daemon_; ++attempt) {
      port_ = pick_unused_port(host);
      ignored_port_ = pick_unused_port(host);
      DaemonOptions options;
      options.listen = host;
      options.port = std::to_string(ignored_port_);
      if (port_in_file) {
        options.config_text = "listen = " + host + "\nport = " + *options.port + "\n";
        options.listen.reset();
        options.port.reset();
      }
      options.socket_activation_listen = {endpoint(host, port_)};
      try {
        daemon_ = std::make_unique<DaemonProcess>(options);
      } catch (const std::runtime_error& error) {
        if (std::string(error.what()).find("Address already in use") == std::string::npos) {
          throw;
        }
      }
    }
    ASSERT_TRUE(daemon_) << "could not find a free port";
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::uint16_t port_ = 0;
  std::uint16_t ignored_port_ = 0;
};

TEST_P(SocketActivation, ServesThePassedSocketAndBindsNothingItself) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string host = GetParam().host;
  // The first connection is what makes systemd-socket-activate exec the daemon.
  ChatClient first(port_, ConnectOptions::to_host(host));
  daemon_->wait_ready();
  EXPECT_EQ(daemon_->ready_message().field("STATUS"), "Listening on " + endpoint(host, port_));

  ASSERT_TRUE(first.expect_line(lines::welcome(1)));
  Member second = join(port_, ConnectOptions::to_host(host));
  ASSERT_TRUE(first.expect_line(lines::joined(second.id, 2)));
  first.send("activated\n");
  EXPECT_TRUE(second.client.expect_line(lines::says(1, "activated")));
  second.client.send("and chatting\n");
  EXPECT_TRUE(first.expect_line(lines::says(second.id, "and chatting")));

  // The only listening socket the daemon holds is the one it was given, as fd 3.
  const auto listening = listening_tcp_sockets(daemon_->pid());
  ASSERT_EQ(listening.size(), 1U) << "the daemon holds more listening sockets than it was passed";
  EXPECT_EQ(listening.front().fd, 3);
  EXPECT_EQ(listening.front().family, GetParam().family);
  EXPECT_EQ(listening.front().port, port_);
  EXPECT_THROW(ChatClient(ignored_port_, ConnectOptions::to_host(host)), std::system_error)
      << "something listens on the --port the daemon should have ignored";
}

TEST_P(SocketActivation, AReloadSaysThatAListenerChangeDidNotApply) {
  ASSERT_NO_FATAL_FAILURE(start(true));
  const std::string host = GetParam().host;
  ChatClient first(port_, ConnectOptions::to_host(host));
  daemon_->wait_ready();
  ASSERT_TRUE(first.expect_line(lines::welcome(1)));

  const std::string other_host = host == "::1" ? "127.0.0.1" : "::1";
  daemon_->write_config("listen = " + other_host + "\nport = 0\n");
  daemon_->send_signal(SIGHUP);
  ASSERT_TRUE(daemon_->notify().wait_for("RELOADING=1", 5s).has_value());
  const auto ready = daemon_->notify().wait_for("READY=1", 5s);
  ASSERT_TRUE(ready.has_value()) << "no READY=1 after the reload";
  EXPECT_TRUE(ready->field("STATUS").value_or("").ends_with("; restart needed for: listen, port"))
      << ready->text;
  EXPECT_TRUE(daemon_->wait_for_stderr("reload: restart needed for: listen, port", 5s))
      << daemon_->stderr_text();
  // Still serving the passed socket.
  Member second = join(port_, ConnectOptions::to_host(host));
  EXPECT_TRUE(first.expect_line(lines::joined(second.id, 2)));
}

INSTANTIATE_TEST_SUITE_P(Families, SocketActivation,
                         ::testing::Values(Family{"IPv4", "127.0.0.1", AF_INET},
                                           Family{"IPv6", "::1", AF_INET6}),
                         [](const ::testing::TestParamInfo<Family>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace epollchat::test
