// TLS clients: they share rooms with plain ones; a peer that speaks plain text, garbage or
// nothing at all on the TLS port is closed without disturbing anyone; the certificate comes
// from files or systemd credentials and is swapped by a reload; a pair that cannot be used
// is a configuration error (78) that never shows the key; a socket passed by systemd under
// the name "tls" is a TLS listener.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/tls_context.hpp"
#include "support/daemon_process.hpp"
#include "support/deadline.hpp"
#include "support/loopback.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace epollchat::test {
namespace {

constexpr int kExConfig = 78;

class Tls : public ::testing::Test {
 protected:
  TempDir dir_;
  CertificateFiles files_{dir_, "server"};
  DaemonProcess daemon_{DaemonOptions::with_args(tls_args(files_))};

  Member join_tls() {
    return join(daemon_.tls_port(), ConnectOptions::over_tls(files_.trusted_by));
  }
};

TEST_F(Tls, StatusNamesTheTlsListenerAndWhetherTheKernelEncrypts) {
  const std::string status = daemon_.ready_message().field("STATUS").value_or("");
  EXPECT_EQ(parse_listening_status(status).size(), 1U) << status;
  ASSERT_EQ(parse_tls_listening_status(status).size(), 1U) << status;
  EXPECT_NE(daemon_.tls_port(), daemon_.port());
  EXPECT_TRUE(status.ends_with(" (kernel TLS off)") || status.ends_with(" (kernel TLS on)"))
      << status;
}

TEST_F(Tls, PlainAndTlsClientsShareOneRoom) {
  Member plain = join(daemon_.port());
  Member encrypted = join_tls();
  ASSERT_TRUE(plain.client.expect_line(lines::joined(encrypted.id, 2)));

  encrypted.client.send("hello over TLS\n");
  EXPECT_TRUE(plain.client.expect_line(lines::says(encrypted.id, "hello over TLS")));
  plain.client.send("hello in clear\n");
  EXPECT_TRUE(encrypted.client.expect_line(lines::says(plain.id, "hello in clear")));

  // Commands work the same over TLS.
  ASSERT_TRUE(take_nickname(encrypted, "alice"));
  EXPECT_TRUE(
      plain.client.skip_until_line(lines::known_as(lines::client_name(encrypted.id), "alice")));
  // A long line crosses several TLS records whole.
  const std::string long_line(4000, 'x');
  plain.client.send(long_line + "\n");
  EXPECT_TRUE(encrypted.client.expect_line(lines::says(plain.id, long_line)));
}

TEST_F(Tls, StatusCountsTlsClients) {
  Member plain = join(daemon_.port());
  Member encrypted = join_tls();
  const auto status = daemon_.notify().wait_for(
      [](const NotifyMessage& message) {
        return message.field("STATUS").value_or("").starts_with("2 clients online (1 over TLS)");
      },
      5s);
  EXPECT_TRUE(status.has_value()) << "no STATUS= counting the TLS client";
}

TEST_F(Tls, PlainTextOnTheTlsPortIsClosedAndCostsTheOthersNothing) {
  auto [a, b] = join_quiet<2>(daemon_.port());
  ChatClient confused(daemon_.tls_port());
  confused.send("hello, is this the chat?\n");
  EXPECT_TRUE(confused.read_until_closed(5s).has_value()) << "the TLS port kept a plain client";

  ChatClient garbage(daemon_.tls_port());
  garbage.send(std::string("\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff", 10));
  EXPECT_TRUE(garbage.read_until_closed(5s).has_value()) << "the TLS port kept a garbage client";

  a.client.send("still chatting\n");
  EXPECT_TRUE(b.client.expect_line(lines::says(a.id, "still chatting")));
  // Nobody joined or left: the failed handshakes never became clients.
  Member encrypted = join_tls();
  EXPECT_EQ(encrypted.id, 3);
}

TEST_F(Tls, AStalledHandshakeIsClosedAfterTheTimeout) {
  const auto started = std::chrono::steady_clock::now();
  ChatClient silent(daemon_.tls_port());
  const auto closed = silent.read_until_closed(20s);
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(closed.has_value()) << "a silent peer kept its handshake open for 20 s";
  EXPECT_GE(waited, 9s) << "closed before the 10 s handshake timeout";
  // Meanwhile a real client got through.
  Member encrypted = join_tls();
  EXPECT_EQ(encrypted.id, 1);
}

TEST_F(Tls, AClientThatDoesNotTrustTheCertificateIsRefusedByItsOwnCheck) {
  const CertificateFiles other(dir_, "other");
  try {
    ChatClient wrong(daemon_.tls_port(), ConnectOptions::over_tls(other.trusted_by));
    FAIL() << "the handshake succeeded with an untrusted certificate";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("certificate verify failed"), std::string::npos)
        << error.what();
  }
}

// Reload: the config file names the files; SIGHUP reads them again.
class TlsReload : public ::testing::Test {
 protected:
  static DaemonOptions options(const CertificateFiles& files) {
    DaemonOptions options;
    options.config_text = "tls-port = 0\ntls-cert = " + files.certificate.string() +
                          "\ntls-key = " + files.key.string() + "\n";
    return options;
  }

  void reload() {
    daemon_.send_signal(SIGHUP);
    ASSERT_TRUE(daemon_.notify().wait_for("RELOADING=1", 5s).has_value());
    ASSERT_TRUE(daemon_.notify().wait_for("READY=1", 5s).has_value());
  }

  TempDir dir_;
  CertificateFiles first_{dir_, "first"};
  DaemonProcess daemon_{options(first_)};
};

TEST_F(TlsReload, NewConnectionsGetTheNewPairAndABadPairKeepsTheOld) {
  Member early = join(daemon_.tls_port(), ConnectOptions::over_tls(first_.trusted_by));

  // Replace the files' contents with a second pair.
  const TestCertificate second = make_test_certificate();
  dir_.write("first-cert.pem", second.certificate_pem);
  dir_.write("first-key.pem", second.key_pem);
  const std::filesystem::path second_ca = dir_.write("second-ca.pem", second.certificate_pem);
  const TlsContext trusts_second = TlsContext::for_client(second_ca.string());
  ASSERT_NO_FATAL_FAILURE(reload());
  EXPECT_TRUE(daemon_.wait_for_stderr("TLS certificate reloaded", 5s)) << daemon_.stderr_text();

  Member late = join(daemon_.tls_port(), ConnectOptions::over_tls(trusts_second));
  EXPECT_THROW(ChatClient(daemon_.tls_port(), ConnectOptions::over_tls(first_.trusted_by)),
               std::runtime_error);
  // The connection made with the first pair goes on.
  ASSERT_TRUE(early.client.expect_line(lines::joined(late.id, 2)));
  late.client.send("after the reload\n");
  EXPECT_TRUE(early.client.expect_line(lines::says(late.id, "after the reload")));

  // A key that does not match: the reload is refused and the second pair stays.
  dir_.write("first-key.pem", make_test_certificate().key_pem);
  ASSERT_NO_FATAL_FAILURE(reload());
  EXPECT_TRUE(daemon_.wait_for_stderr("reload failed, keeping the previous settings", 5s));
  EXPECT_NO_THROW(Member again = join(daemon_.tls_port(), ConnectOptions::over_tls(trusts_second)));
}

// Configuration errors: exit 78 with the reason, for --check-config and for a start; the
// key's text never appears.
class TlsConfigErrors : public ::testing::Test {
 protected:
  CommandResult run(const std::vector<std::string>& extra, bool check_only = true) {
    std::vector<std::string> argv{daemon_path(), "-c", empty_config_.string(), "--port", "0"};
    if (check_only) argv.push_back("--check-config");
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv);
  }

  void expect_config_error(const std::vector<std::string>& extra, const std::string& reason) {
    for (const bool check_only : {true, false}) {
      const CommandResult result = run(extra, check_only);
      EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig)) << result.err;
      EXPECT_NE(result.err.find(reason), std::string::npos) << result.err;
      EXPECT_EQ(result.err.find("PRIVATE KEY"), std::string::npos) << result.err;
      EXPECT_EQ(result.err.find(files_.pair.key_pem.substr(40, 20)), std::string::npos)
          << "the key's text was printed";
    }
  }

  TempDir dir_;
  std::filesystem::path empty_config_ = dir_.write("empty.conf", "");
  CertificateFiles files_{dir_, "good"};
};

TEST_F(TlsConfigErrors, AMismatchedKeyIsRefused) {
  const std::filesystem::path other_key =
      dir_.write("other-key.pem", make_test_certificate().key_pem);
  expect_config_error({"--tls-port", "0", "--tls-cert", files_.certificate.string(), "--tls-key",
                       other_key.string()},
                      "the private key does not match the certificate");
}

TEST_F(TlsConfigErrors, AKeyThatIsNotPemIsRefused) {
  // The certificate where the key belongs: PEM, but not a key.
  expect_config_error({"--tls-port", "0", "--tls-cert", files_.certificate.string(), "--tls-key",
                       files_.certificate.string()},
                      "the private key is not an unencrypted PEM key");
  const std::filesystem::path junk = dir_.write("junk.pem", "not a certificate\n");
  expect_config_error(
      {"--tls-port", "0", "--tls-cert", junk.string(), "--tls-key", files_.key.string()},
      "the certificate is not a PEM certificate");
}

TEST_F(TlsConfigErrors, AnUnreadableFileOrNoneAtAllIsRefused) {
  expect_config_error({"--tls-port", "0", "--tls-cert", files_.certificate.string(), "--tls-key",
                       (dir_.path() / "missing.pem").string()},
                      "cannot read TLS key file");
  // With neither file, the credentials would have to serve: a start fails without them,
  // while --check-config run in a shell, where they cannot be, only notes them.
  const CommandResult start = run({"--tls-port", "0"}, false);
  EXPECT_EQ(start.status, ExitStatus::exited_with(kExConfig)) << start.err;
  EXPECT_NE(start.err.find("TLS needs a certificate and a key"), std::string::npos) << start.err;
  const CommandResult check = run({"--tls-port", "0"});
  EXPECT_EQ(check.status, ExitStatus::exited_with(0)) << check.err;
  EXPECT_NE(check.err.find("note: the credential tls-cert is only available inside the service"),
            std::string::npos)
      << check.err;
}

TEST_F(TlsConfigErrors, AGoodPairPassesTheCheck) {
  const CommandResult result = run({"--tls-port", "0", "--tls-cert", files_.certificate.string(),
                                    "--tls-key", files_.key.string()});
  EXPECT_EQ(result.status, ExitStatus::exited_with(0)) << result.err;
}

TEST(TlsCredentials, TheCredentialsServeWhenNoFilesAreConfigured) {
  TempDir dir;
  TempDir credentials;
  const CertificateFiles files(dir, "server");
  credentials.write("tls-cert", files.pair.certificate_pem);
  credentials.write("tls-key", files.pair.key_pem);
  DaemonOptions options = DaemonOptions::with_args({"--tls-port", "0"});
  options.env["CREDENTIALS_DIRECTORY"] = credentials.path().string();
  DaemonProcess daemon(options);
  Member plain = join(daemon.port());
  Member encrypted = join(daemon.tls_port(), ConnectOptions::over_tls(files.trusted_by));
  encrypted.client.send("via credentials\n");
  EXPECT_TRUE(plain.client.skip_until_line(lines::says(encrypted.id, "via credentials")));
}

TEST(TlsSocketActivation, ASocketNamedTlsIsATlsListener) {
  TempDir dir;
  const CertificateFiles files(dir, "server");
  std::unique_ptr<DaemonProcess> daemon;
  std::uint16_t plain_port = 0;
  std::uint16_t tls_port = 0;
  for (int attempt = 0; attempt < 5 && !daemon; ++attempt) {
    plain_port = pick_unused_port("127.0.0.1");
    tls_port = pick_unused_port("127.0.0.1");
    if (plain_port == tls_port) continue;
    DaemonOptions options = DaemonOptions::with_args(
        {"--tls-cert", files.certificate.string(), "--tls-key", files.key.string()});
    options.socket_activation_listen = {"127.0.0.1:" + std::to_string(plain_port),
                                        "127.0.0.1:" + std::to_string(tls_port)};
    options.socket_activation_fdnames = "epollchatd.socket:tls";
    try {
      daemon = std::make_unique<DaemonProcess>(options);
    } catch (const std::runtime_error& error) {
      if (std::string(error.what()).find("Address already in use") == std::string::npos) throw;
    }
  }
  ASSERT_TRUE(daemon) << "could not find free ports";
  // The first connection makes systemd-socket-activate exec the daemon.
  ChatClient first(tls_port, ConnectOptions::over_tls(files.trusted_by));
  daemon->wait_ready();
  EXPECT_EQ(daemon->tls_port(), tls_port);
  EXPECT_EQ(daemon->port(), plain_port);
  Member encrypted = read_welcome(std::move(first));
  Member plain = join(plain_port);
  EXPECT_TRUE(encrypted.client.expect_line(lines::joined(plain.id, 2)));
}

}  // namespace
}  // namespace epollchat::test
