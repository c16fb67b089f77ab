// epollchat --tls: an encrypted client chats with a plain one through the daemon's two
// listeners, and one that cannot verify the server (an unknown CA, a plain-text port) exits
// with the cannot-connect status and one line saying why, having sent nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "client_harness.hpp"
#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace epollchat::test {
namespace {

constexpr int kExitCannotConnect = 2;

class TlsClientTest : public ClientTest {
 protected:
  TempDir dir_;
  TestCertificate pair_ = make_test_certificate();
  std::filesystem::path certificate_ = dir_.write("cert.pem", pair_.certificate_pem);
  std::filesystem::path key_ = dir_.write("key.pem", pair_.key_pem);
  DaemonProcess daemon_{DaemonOptions::with_args(
      {"--tls-port", "0", "--tls-cert", certificate_.string(), "--tls-key", key_.string()})};

  std::vector<std::string> tls_client_args(std::vector<std::string> options, std::uint16_t port,
                                           const std::string& host = "127.0.0.1") const {
    std::vector<std::string> args{client_path()};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {host, std::to_string(port)});
    return args;
  }

  // An untrusting client: exit 2, one line on stderr naming `reason`, nothing sent.
  void expect_refused(const std::vector<std::string>& args, const std::string& reason) {
    PipedClient client(args);
    (void)client.write_input("never sent\n");
    client.close_input();
    EXPECT_EQ(client.wait_exit(), ExitStatus::exited_with(kExitCannotConnect));
    const std::string err = client.err().text();
    EXPECT_NE(err.find(reason), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << "not one line: " << err;
  }
};

TEST_F(TlsClientTest, AnEncryptedClientChatsWithAPlainOne) {
  Member plain = join(daemon_.port());
  PipedClient encrypted(
      tls_client_args({"--tls", "--tls-ca", certificate_.string()}, daemon_.tls_port()));
  ASSERT_TRUE(encrypted.wait_for_output(lines::welcome(2)));
  ASSERT_TRUE(plain.client.expect_line(lines::joined(2, 2)));
  ASSERT_TRUE(encrypted.write_input("hello over TLS\n"));
  EXPECT_TRUE(plain.client.expect_line(lines::says(2, "hello over TLS")));
  plain.client.send("hello in clear\n");
  EXPECT_TRUE(encrypted.wait_for_output(lines::says(plain.id, "hello in clear")));
  encrypted.close_input();
  EXPECT_EQ(encrypted.wait_exit(), ExitStatus::exited_with(0));
  // The host name is checked too: "localhost" is in the certificate.
  PipedClient by_name(
      tls_client_args({"--tls-ca=" + certificate_.string()}, daemon_.tls_port(), "localhost"));
  EXPECT_TRUE(by_name.wait_for_output(lines::welcome(3)));
  by_name.close_input();
  EXPECT_EQ(by_name.wait_exit(), ExitStatus::exited_with(0));
}

TEST_F(TlsClientTest, AnUntrustedCertificateIsRefusedWithTheCannotConnectStatus) {
  Member plain = join(daemon_.port());
  // The system's CAs do not know the self-signed certificate.
  expect_refused(tls_client_args({"--tls"}, daemon_.tls_port()), "certificate verify failed");
  // Another CA does not either.
  const std::filesystem::path other =
      dir_.write("other.pem", make_test_certificate().certificate_pem);
  expect_refused(tls_client_args({"--tls-ca", other.string()}, daemon_.tls_port()),
                 "certificate verify failed");
  // Neither became a client: the next one to join is #2.
  EXPECT_EQ(join(daemon_.port()).id, 2);
  // TLS to the plain port: the server's welcome is no TLS record.
  expect_refused(tls_client_args({"--tls-ca", certificate_.string()}, daemon_.port()),
                 "TLS with 127.0.0.1:" + std::to_string(daemon_.port()) + " failed");
}

}  // namespace
}  // namespace epollchat::test
