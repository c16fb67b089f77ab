// Listener: accepting until EAGAIN or the per-turn budget, and surviving EMFILE with the
// reserve descriptor instead of wedging the edge-triggered listening socket.
#include "core/listener.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unit/unit_helpers.hpp"

namespace epollchat {
namespace {

using test::run_until;

class RecordingHandler final : public ListenerHandler {
 public:
  void on_accepted(UniqueFd connection) override { accepted.push_back(std::move(connection)); }
  void on_accept_error(int error) override { errors.push_back(error); }
  void on_refused(int connection) override {
    (void)!send(connection, kLastWord.data(), kLastWord.size(), MSG_NOSIGNAL);
  }
  static constexpr std::string_view kLastWord = "busy\n";
  std::vector<UniqueFd> accepted;
  std::vector<int> errors;
};

UniqueFd listen_loopback() { return listen_tcp(*SocketAddress::from_numeric("127.0.0.1", 0), 256); }

// A blocking client connected to `address` (the handshake completes in the kernel; the
// connection then waits in the accept queue).
UniqueFd connect_to(const SocketAddress& address) {
  UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) test::throw_errno("socket");
  if (connect(fd.get(), address.data(), address.size()) != 0) test::throw_errno("connect");
  return fd;
}

TEST(Listener, AcceptsNonBlockingCloexecConnections) {
  EventLoop loop;
  RecordingHandler handler;
  Listener listener(loop, listen_loopback(), handler);
  EXPECT_EQ(listener.address().to_string().rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(listener.address().port(), 0);

  std::vector<UniqueFd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_to(listener.address()));
  ASSERT_TRUE(run_until(loop, [&] { return handler.accepted.size() == 3; }));
  for (const UniqueFd& fd : handler.accepted) {
    EXPECT_NE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  }
  EXPECT_TRUE(handler.errors.empty());
}

TEST(Listener, ABurstBeyondThePerTurnBudgetIsAcceptedNextTurnWithoutWaiting) {
  EventLoop loop;
  RecordingHandler handler;
  Listener listener(loop, listen_loopback(), handler);
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 100; ++i) clients.push_back(connect_to(listener.address()));

  loop.run_once(5000);
  EXPECT_GT(handler.accepted.size(), 0u);
  EXPECT_LT(handler.accepted.size(), 100u) << "one turn accepts a bounded number";
  // No new connection arrives, so no new edge: the listener must be resumed by the loop.
  const auto start = std::chrono::steady_clock::now();
  loop.run_once(10'000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(handler.accepted.size(), 100u);
}

TEST(Listener, StopRefusesNewConnections) {
  EventLoop loop;
  RecordingHandler handler;
  Listener listener(loop, listen_loopback(), handler);
  const SocketAddress address = listener.address();
  listener.stop();
  listener.stop();  // twice is harmless
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_NE(connect(fd.get(), address.data(), address.size()), 0);
  EXPECT_EQ(errno, ECONNREFUSED);
}

// An error of accept(2) other than running out of descriptors: shutdown() on a listening
// socket makes every accept fail with EINVAL, as ENOBUFS or ENOMEM would under memory
// pressure. The listener must wait before it tries again instead of spinning the loop.
TEST(Listener, AnAcceptErrorIsRetriedAfterADelayNotEveryTurn) {
  EventLoop loop;
  RecordingHandler handler;
  UniqueFd listening = listen_loopback();
  UniqueFd same_socket(fcntl(listening.get(), F_DUPFD_CLOEXEC, 0));
  ASSERT_TRUE(same_socket);
  Listener listener(loop, std::move(listening), handler);
  ASSERT_EQ(shutdown(same_socket.get(), SHUT_RD), 0);
  ASSERT_TRUE(run_until(loop, [&] { return !handler.errors.empty(); }));
  EXPECT_EQ(handler.errors[0], EINVAL);
  for (int turn = 0; turn < 20; ++turn) loop.run_once(0);
  EXPECT_EQ(handler.errors.size(), 1u) << "an accept that fails at once every turn spins the loop";
  ASSERT_TRUE(run_until(loop, [&] { return handler.errors.size() >= 2; }))
      << "and it is tried again after a while";
}

// What `fd` receives until EOF, within the guard time; nullopt if no EOF came.
std::optional<std::string> read_until_eof(int fd) {
  std::string received;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return std::nullopt;
    char buffer[256];
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) return received;
    if (n < 0) return std::nullopt;
    received.append(buffer, static_cast<std::size_t>(n));
  }
}

// Occupies every free descriptor number below the (lowered) limit.
std::vector<UniqueFd> exhaust_descriptors() {
  std::vector<UniqueFd> fillers;
  for (;;) {
    const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno != EMFILE) test::throw_errno("open /dev/null");
      return fillers;
    }
    fillers.emplace_back(fd);
  }
}

// The EMFILE scenario, run in a forked child because it lowers RLIMIT_NOFILE for the
// whole process. Returns "" or what went wrong.
std::string run_emfile_scenario() {
  EventLoop loop;
  RecordingHandler handler;
  Listener listener(loop, listen_loopback(), handler);

  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) highest = fd;
  }
  // Room for the clients below and a few spare; everything else stays occupied.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return "getrlimit failed";
  limit.rlim_cur = static_cast<rlim_t>(highest) + 16;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
    return std::string("setrlimit: ") + std::strerror(errno);

  for (int round = 1; round <= 2; ++round) {
    const std::string where = "round " + std::to_string(round) + ": ";
    std::vector<UniqueFd> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(connect_to(listener.address()));
    std::vector<UniqueFd> fillers = exhaust_descriptors();
    const std::size_t errors_before = handler.errors.size();

    // The queued connections cannot be accepted; they must be refused, not left to wedge
    // the listener (with edge-triggered epoll no new edge would come for them).
    if (!run_until(loop, [&] { return handler.errors.size() >= errors_before + 3; })) {
      return where + "expected 3 accept errors, got " +
             std::to_string(handler.errors.size() - errors_before);
    }
    for (std::size_t i = errors_before; i < handler.errors.size(); ++i) {
      if (handler.errors[i] != EMFILE) return where + "error " + std::strerror(handler.errors[i]);
    }
    if (!handler.accepted.empty()) return where + "a connection was accepted while out of fds";
    for (const UniqueFd& client : clients) {
      const auto received = read_until_eof(client.get());
      if (!received) return where + "a refused client did not see its connection closed";
      if (*received != RecordingHandler::kLastWord) {
        return where + "a refused client got \"" + *received + "\" instead of the last word";
      }
    }

    // With descriptors free again, the listener accepts as before.
    fillers.clear();
    clients.clear();
    UniqueFd late = connect_to(listener.address());
    if (!run_until(loop, [&] { return handler.accepted.size() == 1; })) {
      return where + "the listener is wedged: a connection after EMFILE was not accepted";
    }
    handler.accepted.clear();
  }
  return "";
}

TEST(Listener, RecoversFromEmfileWithTheReserveDescriptor) {
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    report_read.reset();
    std::string failure;
    try {
      failure = run_emfile_scenario();
    } catch (const std::exception& error) {
      failure = std::string("exception: ") + error.what();
    }
    if (!failure.empty()) (void)!write(report_write.get(), failure.data(), failure.size());
    _exit(failure.empty() ? 0 : 1);
  }
  report_write.reset();
  std::string failure;
  char buffer[512];
  for (ssize_t n; (n = read(report_read.get(), buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    failure.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << failure;
  EXPECT_EQ(failure, "");
}

}  // namespace
}  // namespace epollchat
