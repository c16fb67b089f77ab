// Socket plumbing: numeric addresses, listening sockets, descriptor flags.
#include "core/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace epollchat {
namespace {

TEST(SocketAddress, ParsesIpv4Literals) {
  const auto address = SocketAddress::from_numeric("127.0.0.1", 8888);
  ASSERT_TRUE(address);
  EXPECT_EQ(address->family(), AF_INET);
  EXPECT_EQ(address->port(), 8888);
  EXPECT_EQ(address->size(), sizeof(sockaddr_in));
  EXPECT_EQ(address->to_string(), "127.0.0.1:8888");
}

TEST(SocketAddress, ParsesIpv6LiteralsWithAndWithoutBrackets) {
  for (const char* text : {"::1", "[::1]"}) {
    const auto address = SocketAddress::from_numeric(text, 65535);
    ASSERT_TRUE(address) << text;
    EXPECT_EQ(address->family(), AF_INET6);
    EXPECT_EQ(address->port(), 65535);
    EXPECT_EQ(address->to_string(), "[::1]:65535");
  }
  const auto any = SocketAddress::from_numeric("::", 0);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->to_string(), "[::]:0");
}

TEST(SocketAddress, RejectsNamesAndMalformedLiterals) {
  for (const char* text : {"", "localhost", "1.2.3", "256.0.0.1", "127.0.0.1:80", "::1]", "[::1",
                           "::g", " 127.0.0.1"}) {
    EXPECT_FALSE(SocketAddress::from_numeric(text, 1)) << "'" << text << "'";
  }
}

TEST(ListenTcp, BindsAnEphemeralPortNonBlockingAndCloexec) {
  UniqueFd fd = listen_tcp(*SocketAddress::from_numeric("127.0.0.1", 0), 16);
  ASSERT_TRUE(fd);
  const SocketAddress bound = SocketAddress::local_of(fd.get());
  EXPECT_EQ(bound.family(), AF_INET);
  EXPECT_NE(bound.port(), 0);
  EXPECT_NE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(ListenTcp, APortInUseThrowsAddressInUseFromBind) {
  UniqueFd first = listen_tcp(*SocketAddress::from_numeric("127.0.0.1", 0), 16);
  const std::uint16_t port = SocketAddress::local_of(first.get()).port();
  try {
    (void)listen_tcp(*SocketAddress::from_numeric("127.0.0.1", port), 16);
    FAIL() << "a second listener on port " << port << " must fail";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EADDRINUSE);
    EXPECT_NE(std::string(error.what()).find("bind"), std::string::npos) << error.what();
  }
}

TEST(SocketAddress, WildcardsAreTheUnspecifiedAddresses) {
  for (const char* text : {"0.0.0.0", "::", "[::]"}) {
    EXPECT_TRUE(SocketAddress::from_numeric(text, 8888)->is_wildcard()) << text;
  }
  for (const char* text : {"127.0.0.1", "::1", "192.0.2.10", "::ffff:0.0.0.0"}) {
    EXPECT_FALSE(SocketAddress::from_numeric(text, 8888)->is_wildcard()) << text;
  }
  EXPECT_FALSE(SocketAddress().is_wildcard());
}

// The flag as the kernel reports it for a listener bound to `host`.
int freebind_of(const char* host) {
  UniqueFd fd = listen_tcp(*SocketAddress::from_numeric(host, 0), 16);
  int value = -1;
  socklen_t size = sizeof value;
  EXPECT_EQ(getsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &value, &size), 0) << host;
  return value;
}

TEST(ListenTcp, ASpecificAddressIsBoundWithFreebindAndTheWildcardWithout) {
  EXPECT_EQ(freebind_of("127.0.0.1"), 1);
  EXPECT_EQ(freebind_of("::1"), 1);
  EXPECT_EQ(freebind_of("0.0.0.0"), 0);
  EXPECT_EQ(freebind_of("::"), 0);
}

// 192.0.2.0/24 and 2001:db8::/32 are documentation ranges, on no interface of a test
// machine: without freebind the bind fails with EADDRNOTAVAIL. No privilege is needed.
TEST(ListenTcp, BindsAnAddressNoInterfaceHasYet) {
  const std::pair<const char*, const char*> cases[] = {{"192.0.2.10", "192.0.2.10:"},
                                                       {"2001:db8::10", "[2001:db8::10]:"}};
  for (const auto& [host, prefix] : cases) {
    UniqueFd fd = listen_tcp(*SocketAddress::from_numeric(host, 0), 16);
    const SocketAddress bound = SocketAddress::local_of(fd.get());
    EXPECT_EQ(bound.to_string().rfind(prefix, 0), 0u) << bound.to_string();
    EXPECT_NE(bound.port(), 0);
  }
}

TEST(SocketAddress, LocalAndPeerOfAConnection) {
  UniqueFd listening = listen_tcp(*SocketAddress::from_numeric("127.0.0.1", 0), 16);
  const SocketAddress bound = SocketAddress::local_of(listening.get());
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(client.get(), bound.data(), bound.size()), 0);
  const SocketAddress peer = SocketAddress::peer_of(client.get());
  EXPECT_EQ(peer.to_string(), bound.to_string());
  EXPECT_THROW((void)SocketAddress::peer_of(listening.get()), std::system_error);
}

TEST(SetNonblocking, SetsTheFlagAndKeepsOthers) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  ASSERT_EQ(fcntl(read_end.get(), F_GETFL) & O_NONBLOCK, 0);
  set_nonblocking(read_end.get());
  EXPECT_NE(fcntl(read_end.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(read_end.get(), F_GETFD) & FD_CLOEXEC, 0);
  set_nonblocking(read_end.get());  // idempotent
  EXPECT_THROW(set_nonblocking(-1), std::system_error);
}

}  // namespace
}  // namespace epollchat
