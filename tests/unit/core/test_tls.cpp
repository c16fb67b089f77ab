// The TLS transport on socketpairs: contexts refuse unusable pairs; streams shake hands,
// verify the peer's name, and carry bytes both ways; a Connection over TLS reads lines,
// writes its queue as records (many small segments, and more than a socket buffer), and ends
// with close_notify; the acceptor hands on finished handshakes and drops failed ones.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/chunk.hpp"
#include "core/connection.hpp"
#include "core/event_loop.hpp"
#include "core/listener.hpp"
#include "core/socket.hpp"
#include "core/tls_acceptor.hpp"
#include "core/tls_context.hpp"
#include "core/tls_stream.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"
#include "unit/unit_helpers.hpp"

namespace epollchat {
namespace {

using test::make_chunk;
using test::run_until;

struct SocketPair {
  SocketPair() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    server.reset(fds[0]);
    client.reset(fds[1]);
  }
  UniqueFd server;
  UniqueFd client;
};

class TlsTest : public ::testing::Test {
 protected:
  test::TestCertificate pair_ = test::make_test_certificate();
  test::TempDir dir_;
  TlsContext server_context_ = TlsContext::for_server(pair_.certificate_pem, pair_.key_pem);
  TlsContext client_context_ =
      TlsContext::for_client(dir_.write("ca.pem", pair_.certificate_pem).string());
  SocketPair sockets_;
};

// Both sides in one thread: each step does what its socket allows.
bool shake_hands(TlsStream& server, TlsStream& client) {
  bool server_done = false;
  bool client_done = false;
  for (int round = 0; round < 100 && !(server_done && client_done); ++round) {
    if (!client_done) {
      const TlsStatus status = client.handshake();
      if (status == TlsStatus::failed || status == TlsStatus::closed) return false;
      client_done = status == TlsStatus::ok;
    }
    if (!server_done) {
      const TlsStatus status = server.handshake();
      if (status == TlsStatus::failed || status == TlsStatus::closed) return false;
      server_done = status == TlsStatus::ok;
    }
  }
  return server_done && client_done;
}

// Everything the client side can decrypt now.
std::string read_decrypted(TlsStream& stream, bool* closed = nullptr) {
  std::string result;
  char buffer[65536];
  for (;;) {
    const TlsStream::Result got = stream.read(buffer);
    if (got.status == TlsStatus::ok) {
      result.append(buffer, got.bytes);
      continue;
    }
    if (closed != nullptr) *closed = got.status == TlsStatus::closed;
    return result;
  }
}

TEST_F(TlsTest, ContextsRefuseWhatCannotBeUsed) {
  const test::TestCertificate other = test::make_test_certificate();
  EXPECT_THROW(TlsContext::for_server(pair_.certificate_pem, other.key_pem), TlsSetupError);
  EXPECT_THROW(TlsContext::for_server("not PEM", pair_.key_pem), TlsSetupError);
  EXPECT_THROW(TlsContext::for_server(pair_.certificate_pem, pair_.certificate_pem), TlsSetupError);
  EXPECT_THROW(TlsContext::for_client((dir_.path() / "missing.pem").string()), TlsSetupError);
  try {
    (void)TlsContext::for_server(pair_.certificate_pem, other.key_pem);
  } catch (const TlsSetupError& error) {
    EXPECT_EQ(std::string(error.what()), "the private key does not match the certificate");
  }
  EXPECT_NE(server_context_.certificate_summary().find("CN = localhost"), std::string::npos)
      << server_context_.certificate_summary();
}

TEST_F(TlsTest, StreamsShakeHandsAndCarryBytesBothWays) {
  TlsStream server(server_context_, sockets_.server.get());
  TlsStream client(client_context_, sockets_.client.get(), "localhost");
  ASSERT_TRUE(shake_hands(server, client)) << server.failure() << client.failure();
  EXPECT_EQ(server.description().rfind("TLSv1.3 ", 0), 0U) << server.description();
  EXPECT_FALSE(server.sends_through_kernel());  // a unix socket has no kernel TLS

  const TlsStream::Result sent = client.write("hello\n");
  ASSERT_EQ(sent.status, TlsStatus::ok);
  EXPECT_EQ(sent.bytes, 6U);
  EXPECT_EQ(read_decrypted(server), "hello\n");
  ASSERT_EQ(server.write("welcome\n").status, TlsStatus::ok);
  EXPECT_EQ(read_decrypted(client), "welcome\n");

  client.send_close_notify();
  bool closed = false;
  EXPECT_EQ(read_decrypted(server, &closed), "");
  EXPECT_TRUE(closed);
}

TEST_F(TlsTest, AClientRefusesACertificateForAnotherName) {
  TlsStream server(server_context_, sockets_.server.get());
  TlsStream client(client_context_, sockets_.client.get(), "chat.example.org");
  EXPECT_FALSE(shake_hands(server, client));
  EXPECT_NE(client.failure().find("certificate verify failed"), std::string::npos)
      << client.failure();
  EXPECT_NE(client.failure().find("hostname mismatch"), std::string::npos) << client.failure();
}

class LineRecorder final : public ConnectionHandler {
 public:
  void on_line(Connection& /*connection*/, std::string_view line) override {
    lines.emplace_back(line);
  }
  void on_line_too_long(Connection& /*connection*/) override {}
  void on_input_batch_end(Connection& /*connection*/) override {}
  void on_throttled(Connection& /*connection*/) override {}
  void on_peer_finished(Connection& /*connection*/) override { finished = true; }
  void on_closed(Connection& /*connection*/, CloseReason reason) override { closed = reason; }

  std::vector<std::string> lines;
  bool finished = false;
  std::optional<CloseReason> closed;
};

class TlsConnectionTest : public TlsTest {
 protected:
  void SetUp() override {
    auto server = std::make_unique<TlsStream>(server_context_, sockets_.server.get());
    ASSERT_TRUE(shake_hands(*server, client_));
    connection_ = std::make_unique<Connection>(loop_, std::move(sockets_.server), handler_, limits_,
                                               std::move(server));
  }

  EventLoop loop_;
  ChunkPool pool_;
  ConnectionLimits limits_{.max_line = 4096, .max_backlog = 8 * 1024 * 1024, .max_rate = 0};
  LineRecorder handler_;
  TlsStream client_{client_context_, sockets_.client.get(), "localhost"};
  std::unique_ptr<Connection> connection_;
};

TEST_F(TlsConnectionTest, ReadsLinesThroughTls) {
  EXPECT_TRUE(connection_->is_encrypted());
  ASSERT_EQ(client_.write("one\ntwo\nthr").status, TlsStatus::ok);
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.lines.size() == 2; }));
  ASSERT_EQ(client_.write("ee\n").status, TlsStatus::ok);
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.lines.size() == 3; }));
  EXPECT_EQ(handler_.lines, (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(TlsConnectionTest, WritesManySmallSegmentsAndMoreThanASocketBufferInOrder) {
  // Small segments of different chunks (no two merge), then 2 MiB: far more than the
  // socketpair holds, so the flush waits for EPOLLOUT and resumes with the same bytes.
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    ASSERT_TRUE(connection_->queue(make_chunk(pool_, line), 0, line.size()));
    expected += line;
  }
  const std::string big(64 * 1024 - 1, 'b');
  for (int i = 0; i < 32; ++i) {
    ASSERT_TRUE(connection_->queue(make_chunk(pool_, big + "\n"), 0, big.size() + 1));
    expected += big + "\n";
  }
  std::string received;
  ASSERT_TRUE(run_until(loop_, [&] {
    received += read_decrypted(client_);
    return received.size() >= expected.size();
  }));
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "the decrypted bytes differ from what was queued";
  EXPECT_FALSE(connection_->has_pending_output());
}

TEST_F(TlsConnectionTest, ClosesAfterFlushWithCloseNotify) {
  const std::string goodbye = "goodbye\n";
  ASSERT_TRUE(connection_->queue(make_chunk(pool_, goodbye), 0, goodbye.size()));
  connection_->close_after_flush();
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.closed.has_value(); }));
  EXPECT_EQ(*handler_.closed, CloseReason::server_closed);
  bool closed = false;
  EXPECT_EQ(read_decrypted(client_, &closed), goodbye);
  EXPECT_TRUE(closed) << "no close_notify or EOF after the last line";
}

TEST_F(TlsConnectionTest, ThePeersCloseNotifyIsItsEndOfInput) {
  ASSERT_EQ(client_.write("last\n").status, TlsStatus::ok);
  client_.send_close_notify();
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.finished; }));
  EXPECT_EQ(handler_.lines, (std::vector<std::string>{"last"}));
}

class HandshakeRecorder final : public TlsAcceptorHandler {
 public:
  bool admits_handshake() override { return admits; }
  void on_handshake_done(UniqueFd connection, std::unique_ptr<TlsStream> tls) override {
    done.push_back({std::move(connection), std::move(tls)});
  }
  void on_handshake_failed(int /*connection*/, const std::string& reason) override {
    failures.push_back(reason);
  }
  void on_accept_error(int /*error*/) override {}

  struct Done {
    UniqueFd fd;
    std::unique_ptr<TlsStream> tls;
  };
  bool admits = true;
  std::vector<Done> done;
  std::vector<std::string> failures;
};

TEST_F(TlsTest, TheAcceptorHandsOnFinishedHandshakesAndDropsFailedOnes) {
  EventLoop loop;
  HandshakeRecorder handler;
  TlsAcceptor acceptor(loop, handler);
  acceptor.set_context(TlsContext::for_server(pair_.certificate_pem, pair_.key_pem));

  // A good client, driven by the test between the acceptor's turns.
  SocketPair good;
  acceptor.on_accepted(std::move(good.server));
  TlsStream client(client_context_, good.client.get(), "localhost");
  ASSERT_TRUE(run_until(loop, [&] {
    (void)client.handshake();
    return !handler.done.empty();
  }));
  EXPECT_EQ(acceptor.handshakes(), 0U);
  EXPECT_TRUE(handler.failures.empty());

  // Plain text instead of a ClientHello.
  SocketPair confused;
  acceptor.on_accepted(std::move(confused.server));
  EXPECT_EQ(acceptor.handshakes(), 1U);
  const std::string hello = "hello there\n";
  ASSERT_EQ(send(confused.client.get(), hello.data(), hello.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(hello.size()));
  ASSERT_TRUE(run_until(loop, [&] { return !handler.failures.empty(); }));
  EXPECT_EQ(acceptor.handshakes(), 0U);
  EXPECT_EQ(handler.done.size(), 1U);

  // Not admitted: closed at once, no handshake begins.
  handler.admits = false;
  SocketPair refused;
  acceptor.on_accepted(std::move(refused.server));
  EXPECT_EQ(acceptor.handshakes(), 0U);
  char byte = 0;
  EXPECT_EQ(recv(refused.client.get(), &byte, 1, 0), 0) << "the refused connection is open";
}

}  // namespace
}  // namespace epollchat
