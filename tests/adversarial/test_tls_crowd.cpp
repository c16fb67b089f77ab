// TLS under numbers: 1,000 TLS clients connected at once beside a plain one all get one
// line, and STATUS= counts them; handshakes in progress count against max-clients, so
// peers that connect to the TLS port and never finish cannot push the server past it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "adversarial.hpp"
#include "core/tls_acceptor.hpp"
#include "core/tls_context.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace epollchat::test {
namespace {

constexpr int kTlsClients = 1000;

struct ServerCertificate {
  TempDir dir;
  TestCertificate pair = make_test_certificate();
  std::filesystem::path certificate = dir.write("cert.pem", pair.certificate_pem);
  std::filesystem::path key = dir.write("key.pem", pair.key_pem);
  TlsContext trusted_by = TlsContext::for_client(certificate.string());

  [[nodiscard]] DaemonOptions daemon_options(std::size_t max_clients) const {
    DaemonOptions options = DaemonOptions::with_args(
        {"--tls-port", "0", "--tls-cert", certificate.string(), "--tls-key", key.string(),
         "--max-clients", std::to_string(max_clients), "--max-rate", "0"});
    options.nofile_limit = 4096;
    return options;
  }
};

TEST(TlsCrowd, AThousandTlsClientsAtOnceEachGetTheLine) {
  ASSERT_TRUE(raise_open_file_limit(kTlsClients + 200))
      << "RLIMIT_NOFILE too low for " << kTlsClients << " clients";
  const ServerCertificate server;
  DaemonProcess daemon(server.daemon_options(kTlsClients + 10));

  // The server is the judge of a slow handshake (it gives up after kHandshakeTimeout); the
  // client waits longer than that, so that a busy machine slows the test instead of failing it.
  ConnectOptions over_tls = ConnectOptions::over_tls(server.trusted_by);
  over_tls.timeout =
      3 * std::chrono::duration_cast<std::chrono::milliseconds>(TlsAcceptor::kHandshakeTimeout);
  const auto started = std::chrono::steady_clock::now();
  std::chrono::duration<double> slowest{0};
  std::vector<ChatClient> crowd;
  crowd.reserve(kTlsClients);
  for (int i = 0; i < kTlsClients; ++i) {
    const auto connecting = std::chrono::steady_clock::now();
    crowd.emplace_back(daemon.tls_port(), over_tls);
    slowest = std::max(
        slowest, std::chrono::duration<double>(std::chrono::steady_clock::now() - connecting));
  }
  const double connect_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Member speaker = join(daemon.port());
  speaker.client.send("one line for a thousand\n");

  // Each TLS client reads its welcome, the join notices after it, then the line; one
  // deadline for them all, so a client that never gets it fails the test rather than
  // holding it for a timeout per client.
  const std::string expected = lines::says(speaker.id, "one line for a thousand");
  const Deadline deadline(60s);
  int received = 0;
  int first_missing = -1;
  for (int i = 0; i < kTlsClients && !deadline.has_expired(); ++i) {
    if (crowd[static_cast<std::size_t>(i)].skip_until_line(expected, deadline.remaining())) {
      ++received;
    } else if (first_missing < 0) {
      first_missing = i;
    }
  }
  EXPECT_EQ(received, kTlsClients) << "the first TLS client without the line: #" << first_missing;

  const auto status = daemon.notify().wait_for(
      [](const NotifyMessage& message) {
        return message.field("STATUS").value_or("").starts_with(
            std::to_string(kTlsClients + 1) + " clients online (" + std::to_string(kTlsClients) +
            " over TLS)");
      },
      10s);
  EXPECT_TRUE(status.has_value()) << "STATUS= never counted " << kTlsClients << " TLS clients";
  std::cout << kTlsClients << " TLS clients connected (handshake and welcome each) in " << connect_s
            << " s, the slowest in " << slowest.count() << " s; every one received the line\n";
}

TEST(TlsCrowd, UnfinishedHandshakesCountAgainstMaxClients) {
  const ServerCertificate server;
  DaemonProcess daemon(server.daemon_options(3));
  Member plain = join(daemon.port());
  // Two peers connect to the TLS port and say nothing: with the plain client, the server
  // is full. The TLS listener accepts in the order of connection, so the silent peers have
  // taken their places by the time it comes to the next TLS client, which is closed at
  // once, without a handshake.
  ChatClient silent_one(daemon.tls_port());
  ChatClient silent_two(daemon.tls_port());
  EXPECT_THROW(ChatClient(daemon.tls_port(), ConnectOptions::over_tls(server.trusted_by)),
               std::runtime_error)
      << "a TLS client was let in past max-clients while two handshakes waited";
  // The handshakes in progress count for the plain listener too.
  ChatClient late(daemon.port());
  EXPECT_EQ(late.read_line(), lines::server_full(3));

  // Once a silent peer leaves, its place is free again.
  silent_one.close();
  const Deadline free_by(10s);
  bool admitted = false;
  while (!admitted && !free_by.has_expired()) {
    try {
      ChatClient encrypted(daemon.tls_port(), ConnectOptions::over_tls(server.trusted_by));
      admitted = read_welcome(std::move(encrypted)).id > 0;
    } catch (const std::runtime_error&) {
      // Not yet: the server has not seen the hang-up.
    }
  }
  EXPECT_TRUE(admitted);
}

}  // namespace
}  // namespace epollchat::test
