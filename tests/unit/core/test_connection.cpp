// Connection on a socketpair (and, for a real RST, on loopback TCP): reading lines,
// flushing queued output once per turn, the backlog cap, EOF, resets, the read budget and
// EPOLLOUT only while output is pending.
#include "core/connection.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/socket.hpp"
#include "unit/unit_helpers.hpp"

namespace epollchat {
namespace {

using test::make_chunk;
using test::read_available;
using test::run_until;
using test::write_all;
using test::write_some;

class RecordingHandler final : public ConnectionHandler {
 public:
  void before_reading(Connection& connection) override {
    ++reads_announced;
    if (before_reading_action) before_reading_action(connection);
  }
  void on_line(Connection& connection, std::string_view line) override {
    lines.emplace_back(line);
    events.push_back("line");
    if (on_line_action) on_line_action(connection, line);
  }
  void on_line_too_long(Connection& /*connection*/) override {
    ++too_long;
    events.push_back("too long");
  }
  void on_input_batch_end(Connection& /*connection*/) override {
    ++batches;
    events.push_back("batch end");
  }
  void on_throttled(Connection& connection) override {
    ++throttled;
    if (on_throttled_action) on_throttled_action(connection);
  }
  void on_peer_finished(Connection& connection) override {
    events.push_back("peer finished");
    if (on_peer_finished_action) on_peer_finished_action(connection);
  }
  void on_closed(Connection& /*connection*/, CloseReason reason) override {
    EXPECT_FALSE(closed.has_value()) << "on_closed() must be called once";
    closed = reason;
    events.push_back("closed");
  }

  std::vector<std::string> lines;
  std::vector<std::string> events;
  int too_long = 0;
  int batches = 0;
  int throttled = 0;
  int reads_announced = 0;
  std::optional<CloseReason> closed;
  std::function<void(Connection&)> before_reading_action;
  std::function<void(Connection&, std::string_view)> on_line_action;
  std::function<void(Connection&)> on_peer_finished_action;
  std::function<void(Connection&)> on_throttled_action;
};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::SocketPair pair = test::make_socketpair();
    peer_ = std::move(pair.peer);
    connection_ = std::make_unique<Connection>(loop_, std::move(pair.local), handler_, limits_);
  }

  // Queues `text` in a chunk of its own.
  bool queue(std::string_view text) {
    return connection_->queue(make_chunk(pool_, text), 0, text.size());
  }

  bool run_until_closed() {
    return run_until(loop_, [&] { return handler_.closed.has_value(); });
  }

  EventLoop loop_;
  ChunkPool pool_{4096, 8};
  ConnectionLimits limits_;
  RecordingHandler handler_;
  UniqueFd peer_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(ConnectionTest, QueuedBytesAreSentInOrderAtTheEndOfTheTurn) {
  ASSERT_TRUE(queue("first\n"));
  ASSERT_TRUE(queue("second\n"));
  const ChunkRef shared = make_chunk(pool_, "a-b-c\n");
  ASSERT_TRUE(connection_->queue(shared, 0, 2));
  ASSERT_TRUE(connection_->queue(shared, 2, 4));
  EXPECT_EQ(read_available(peer_.get()), "") << "queue() only queues";
  EXPECT_TRUE(connection_->has_pending_output());
  EXPECT_EQ(connection_->pending_bytes(), 19u);

  loop_.run_once(0);
  EXPECT_EQ(read_available(peer_.get()), "first\nsecond\na-b-c\n");
  EXPECT_FALSE(connection_->has_pending_output());
  EXPECT_EQ(connection_->pending_bytes(), 0u);
  EXPECT_TRUE(connection_->is_open());
  EXPECT_FALSE(handler_.closed.has_value());
}

TEST_F(ConnectionTest, SentChunksGoBackToThePool) {
  ASSERT_TRUE(queue("one\n"));
  ASSERT_TRUE(queue("two\n"));
  EXPECT_EQ(pool_.chunks_in_use(), 2u);
  loop_.run_once(0);
  EXPECT_EQ(read_available(peer_.get()), "one\ntwo\n");
  EXPECT_EQ(pool_.chunks_in_use(), 0u);
}

TEST_F(ConnectionTest, DeliversLinesAndEndsEachReadWithABatchEnd) {
  write_all(peer_.get(), "hello\r\nworld\n\npartial");
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.batches > 0; }));
  EXPECT_EQ(handler_.lines, (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(handler_.events, (std::vector<std::string>{"line", "line", "batch end"}));
  EXPECT_EQ(connection_->buffered_input_bytes(), 7u);
  write_all(peer_.get(), " line\n");
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.batches > 1; }));
  EXPECT_EQ(handler_.lines.back(), "partial line");
  EXPECT_EQ(connection_->buffered_input_bytes(), 0u);
}

TEST_F(ConnectionTest, ReportsOversizeLinesAndUsesTheCurrentLimit) {
  limits_.max_line = 8;
  write_all(peer_.get(), "123456789\nok\n");
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.batches > 0; }));
  EXPECT_EQ(handler_.too_long, 1);
  EXPECT_EQ(handler_.lines, std::vector<std::string>{"ok"});

  limits_.max_line = 1;  // a reload: applies to the next read
  write_all(peer_.get(), "ok\n");
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.batches > 1; }));
  EXPECT_EQ(handler_.too_long, 2);
  EXPECT_TRUE(connection_->is_open());
}

// Fills the kernel's buffers towards a peer that does not read; returns how much went in.
std::size_t fill_socket(int fd) {
  std::size_t filler = 0;
  const std::string block(4096, 'x');
  for (;;) {
    const ssize_t n = send(fd, block.data(), block.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    filler += static_cast<std::size_t>(n);
  }
  return filler;
}

TEST_F(ConnectionTest, BacklogOverTheLimitAfterTheFlushClosesAndFreesTheQueue) {
  // A peer that does not read: its socket is full, so queued output cannot leave.
  const std::size_t filler = fill_socket(connection_->fd());
  ASSERT_GT(filler, 0u);

  limits_.max_backlog = 100;
  ASSERT_TRUE(queue(std::string(60, 'a')));
  ASSERT_TRUE(queue(std::string(40, 'b')));
  loop_.run_once(0);
  EXPECT_TRUE(connection_->is_open()) << "exactly max_backlog is allowed";
  EXPECT_EQ(connection_->pending_bytes(), 100u);
  ASSERT_TRUE(queue("c")) << "the backlog is judged after the turn's flush, not while queuing";
  loop_.run_once(0);
  EXPECT_EQ(handler_.closed, CloseReason::backlog_exceeded);
  EXPECT_FALSE(connection_->is_open());
  EXPECT_FALSE(connection_->has_pending_output());
  EXPECT_EQ(connection_->pending_bytes(), 0u);
  EXPECT_EQ(pool_.chunks_in_use(), 0u) << "the dropped queue returned its chunks";
  EXPECT_FALSE(queue("after close"));
  EXPECT_EQ(pool_.chunks_in_use(), 0u);

  loop_.run_once(0);
  bool eof = false;
  EXPECT_EQ(read_available(peer_.get(), &eof), std::string(filler, 'x'))
      << "nothing of the dropped queue is sent";
  EXPECT_TRUE(eof);
}

TEST_F(ConnectionTest, AQueueThatPinsFarMoreThanItHoldsIsCompacted) {
  (void)fill_socket(connection_->fd());
  limits_.max_backlog = 16 * 1024;
  // A few bytes from each of many 4 KiB chunks: the queue keeps every chunk alive.
  for (int i = 0; i < 40; ++i) {
    ChunkRef chunk = pool_.acquire(4096);
    std::memcpy(chunk->tail(), "x\n", 2);
    chunk->commit(2);
    ASSERT_TRUE(connection_->queue(chunk, 0, 2));
  }
  EXPECT_GE(connection_->pinned_output_bytes(), 40u * 4096);
  loop_.run_once(0);
  ASSERT_TRUE(connection_->is_open()) << "80 bytes pending are far below the backlog";
  EXPECT_EQ(connection_->pending_bytes(), 80u);
  EXPECT_LE(connection_->pinned_output_bytes(), 80u) << "copied into a chunk of its own size";
  EXPECT_EQ(pool_.chunks_in_use(), 1u);
}

TEST_F(ConnectionTest, AQueueWithinItsBoundIsNotCopied) {
  (void)fill_socket(connection_->fd());
  limits_.max_backlog = 1024 * 1024;
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(queue("x\n"));
  loop_.run_once(0);
  EXPECT_EQ(pool_.chunks_in_use(), 40u) << "40 x 4 KiB pinned is within max_backlog";
}

TEST_F(ConnectionTest, BacklogCountsOnlyWhatTheSocketRefuses) {
  // A reader that keeps up may be handed more than max_backlog in one turn: the queue is
  // written out before it is judged, so only what the kernel cannot take counts.
  limits_.max_backlog = 100;
  ASSERT_TRUE(queue(std::string(80, 'a')));
  ASSERT_TRUE(queue(std::string(80, 'b')));
  EXPECT_TRUE(connection_->is_open());
  EXPECT_FALSE(handler_.closed.has_value());
  loop_.run_once(0);
  bool eof = false;
  EXPECT_EQ(read_available(peer_.get(), &eof), std::string(80, 'a') + std::string(80, 'b'));
  EXPECT_FALSE(eof);
}

TEST_F(ConnectionTest, PeerEofCallsPeerFinishedThenClosesAfterTheFlush) {
  handler_.on_peer_finished_action = [&](Connection& connection) {
    connection.queue(make_chunk(pool_, "goodbye\n"), 0, 8);
  };
  write_all(peer_.get(), "last words\n");
  ASSERT_EQ(shutdown(peer_.get(), SHUT_WR), 0);

  ASSERT_TRUE(run_until_closed());
  EXPECT_EQ(handler_.closed, CloseReason::peer_closed);
  EXPECT_EQ(handler_.events,
            (std::vector<std::string>{"line", "batch end", "peer finished", "closed"}));
  EXPECT_EQ(handler_.lines, std::vector<std::string>{"last words"});
  bool eof = false;
  EXPECT_EQ(read_available(peer_.get(), &eof), "goodbye\n");
  EXPECT_TRUE(eof);
  EXPECT_EQ(pool_.chunks_in_use(), 0u);
}

TEST_F(ConnectionTest, PeerEofWithNothingQueuedClosesInTheSameTurn) {
  ASSERT_EQ(shutdown(peer_.get(), SHUT_WR), 0);
  loop_.run_once(static_cast<int>(std::chrono::milliseconds(test::kGuard).count()));
  EXPECT_EQ(handler_.closed, CloseReason::peer_closed);
  EXPECT_EQ(handler_.events, (std::vector<std::string>{"peer finished", "closed"}));
}

TEST_F(ConnectionTest, WritingToAClosedPeerIsAPeerReset) {
  ASSERT_TRUE(queue("nobody reads this\n"));
  peer_.reset();
  ASSERT_TRUE(run_until_closed());
  EXPECT_EQ(handler_.closed, CloseReason::peer_reset);
  EXPECT_EQ(connection_->error(), EPIPE);
  EXPECT_EQ(pool_.chunks_in_use(), 0u);
}

// A loopback TCP connection: `client` is the test's end, `accepted` (non-blocking) the one
// handed to a Connection. Throws on failure.
struct TcpPair {
  UniqueFd client;
  UniqueFd accepted;
};
TcpPair connect_over_loopback() {
  const auto address = SocketAddress::from_numeric("127.0.0.1", 0);
  UniqueFd listening = listen_tcp(*address, 8);
  const SocketAddress bound = SocketAddress::local_of(listening.get());
  TcpPair pair;
  pair.client = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!pair.client || connect(pair.client.get(), bound.data(), bound.size()) != 0) {
    test::throw_errno("connect");
  }
  pollfd ready{listening.get(), POLLIN, 0};
  if (poll(&ready, 1, 5000) != 1) throw std::runtime_error("no connection to accept");
  pair.accepted =
      UniqueFd(accept4(listening.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!pair.accepted) test::throw_errno("accept4");
  return pair;
}

class ConnectionTcp : public ::testing::Test {
 protected:
  EventLoop loop_;
  RecordingHandler handler_;
  ConnectionLimits limits_;
  TcpPair pair_ = connect_over_loopback();
  UniqueFd& client_ = pair_.client;
};

TEST_F(ConnectionTcp, ResetByPeerIsReportedAsPeerReset) {
  Connection connection(loop_, std::move(pair_.accepted), handler_, limits_);

  // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
  const linger abort_on_close{1, 0};
  ASSERT_EQ(
      setsockopt(client_.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close), 0);
  client_.reset();

  ASSERT_TRUE(run_until(loop_, [&] { return handler_.closed.has_value(); }));
  EXPECT_EQ(handler_.closed, CloseReason::peer_reset);
  EXPECT_EQ(connection.error(), ECONNRESET);
  EXPECT_FALSE(connection.is_open());
}

TEST_F(ConnectionTest, CloseAfterFlushSendsWhatIsQueuedThenCloses) {
  ASSERT_TRUE(queue("*** Server shutting down.\n"));
  connection_->close_after_flush();
  EXPECT_FALSE(connection_->is_reading());
  EXPECT_TRUE(connection_->is_open());
  write_all(peer_.get(), "ignored now\n");
  ASSERT_TRUE(run_until_closed());
  EXPECT_EQ(handler_.closed, CloseReason::server_closed);
  EXPECT_TRUE(handler_.lines.empty()) << "a closing connection reads no more lines";
  bool eof = false;
  EXPECT_EQ(read_available(peer_.get(), &eof), "*** Server shutting down.\n");
  EXPECT_TRUE(eof);
}

TEST_F(ConnectionTest, CloseNowDropsPendingOutput) {
  ASSERT_TRUE(queue("never sent\n"));
  connection_->close_now(CloseReason::server_closed);
  EXPECT_EQ(handler_.closed, CloseReason::server_closed);
  EXPECT_FALSE(connection_->is_open());
  EXPECT_EQ(pool_.chunks_in_use(), 0u);
  loop_.run_once(0);
  bool eof = false;
  EXPECT_EQ(read_available(peer_.get(), &eof), "");
  EXPECT_TRUE(eof);
}

TEST_F(ConnectionTest, AHandlerClosingInsideOnLineStopsTheRead) {
  handler_.on_line_action = [](Connection& connection, std::string_view) {
    connection.close_now(CloseReason::server_closed);
  };
  write_all(peer_.get(), "one\ntwo\nthree\n");
  ASSERT_TRUE(run_until_closed());
  EXPECT_EQ(handler_.lines, std::vector<std::string>{"one"});
  EXPECT_EQ(handler_.events, (std::vector<std::string>{"line", "closed"}));
}

// Fills the peer's side with `total` bytes of numbered 1 KiB lines, all pending at once.
std::size_t write_pending_lines(int fd, std::size_t total) {
  test::set_buffer_size(fd, SO_SNDBUF, static_cast<int>(2 * total));
  std::string stream;
  for (std::size_t i = 0; stream.size() < total; ++i) {
    std::string line = std::to_string(i) + ":";
    line.resize(1023, 'x');
    stream += line + "\n";
  }
  stream.resize(total);
  const std::size_t written = write_some(fd, stream);
  EXPECT_EQ(written, total) << "the socket must hold everything at once";
  return total / 1024;
}

TEST_F(ConnectionTest, APeerWithMoreThanTheReadBudgetIsResumedNextTurnWithoutWaiting) {
  // 400 KiB pending: more than the 4 reads of 64 KiB one turn allows.
  const std::size_t lines = write_pending_lines(peer_.get(), 400 * 1024);
  loop_.run_once(static_cast<int>(std::chrono::milliseconds(test::kGuard).count()));
  const std::size_t after_first_turn = handler_.lines.size();
  EXPECT_GT(after_first_turn, 0u);
  EXPECT_LT(after_first_turn, lines) << "one turn must not read without limit";

  // Nothing new arrives, so epoll would give no new edge: the loop must resume the reader
  // by itself, without blocking in epoll_wait.
  const auto start = std::chrono::steady_clock::now();
  while (handler_.lines.size() < lines &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(2)) {
    loop_.run_once(10'000);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(handler_.lines.size(), lines);
  for (std::size_t i = 0; i < lines; ++i) {
    ASSERT_TRUE(handler_.lines[i].starts_with(std::to_string(i) + ":")) << "line " << i;
  }
  EXPECT_TRUE(connection_->is_open());
}

TEST_F(ConnectionTest, DataBeyondTheReadBudgetFollowedByEofIsReadAndFinished) {
  // The EOF is reported with the first edge, while the budget stops the reads; the turn
  // that resumes the reader must still read up to the EOF.
  const std::size_t lines = write_pending_lines(peer_.get(), 400 * 1024);
  ASSERT_EQ(shutdown(peer_.get(), SHUT_WR), 0);
  ASSERT_TRUE(run_until_closed()) << "read " << handler_.lines.size() << " of " << lines
                                  << " lines; events so far end with '"
                                  << (handler_.events.empty() ? "" : handler_.events.back()) << "'";
  EXPECT_EQ(handler_.lines.size(), lines);
  EXPECT_EQ(handler_.closed, CloseReason::peer_closed);
}

TEST_F(ConnectionTest, WatchesEpollOutOnlyWhileOutputIsPending) {
  const int fd = connection_->fd();
  test::set_buffer_size(fd, SO_SNDBUF, 4096);
  ASSERT_TRUE(test::watched_events(fd).has_value());
  EXPECT_EQ(*test::watched_events(fd) & EPOLLOUT, 0u);

  // 256 KiB, far more than the socket takes, in 4 KiB chunks with numbered lines.
  std::string expected;
  for (int i = 0; expected.size() < 256 * 1024; ++i) {
    std::string block;
    while (block.size() < 4000) block += "block " + std::to_string(i) + " line\n";
    expected += block;
    ASSERT_TRUE(queue(block));
  }
  loop_.run_once(0);
  ASSERT_TRUE(connection_->has_pending_output()) << "the socket buffer is smaller than the output";
  EXPECT_NE(*test::watched_events(fd) & EPOLLOUT, 0u) << "EPOLLOUT is watched while pending";

  // Drain the peer; each drain gives an EPOLLOUT edge and the rest follows.
  std::string received;
  ASSERT_TRUE(run_until(loop_, [&] {
    received += read_available(peer_.get());
    return received.size() >= expected.size();
  }));
  EXPECT_TRUE(received == expected) << "bytes arrived out of order or damaged";
  EXPECT_FALSE(connection_->has_pending_output());
  EXPECT_EQ(*test::watched_events(fd) & EPOLLOUT, 0u) << "EPOLLOUT is dropped once flushed";
  EXPECT_EQ(pool_.chunks_in_use(), 0u);
  EXPECT_FALSE(handler_.closed.has_value());
}

TEST_F(ConnectionTest, OverTheRateItStopsReadingAndLosesNothing) {
  limits_.max_rate = 1000;  // a burst of 1000 lines, then 1000 per second
  handler_.on_throttled_action = [](Connection& connection) { connection.resume_reading(); };
  std::string burst;
  for (int i = 0; i < 1200; ++i) burst += "line " + std::to_string(i) + "\n";
  write_all(peer_.get(), burst);
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.lines.size() == 1200; }))
      << handler_.lines.size() << " lines";
  EXPECT_GE(handler_.throttled, 1) << "1200 lines at once are over a burst of 1000";
  for (int i = 0; i < 1200; ++i)
    ASSERT_EQ(handler_.lines[static_cast<std::size_t>(i)], "line " + std::to_string(i));
  EXPECT_TRUE(connection_->is_open());
}

TEST_F(ConnectionTest, ReportsHowLongTheIncompleteLineHasWaited) {
  EXPECT_EQ(connection_->partial_line_age(coarse_now()), CoarseClock::duration::zero());
  write_all(peer_.get(), "no end yet");
  ASSERT_TRUE(run_until(loop_, [&] { return connection_->buffered_input_bytes() > 0; }));
  skew_clock(std::chrono::seconds(5));
  EXPECT_GE(connection_->partial_line_age(coarse_now()), std::chrono::seconds(5));
  write_all(peer_.get(), " still");
  ASSERT_TRUE(run_until(loop_, [&] { return connection_->buffered_input_bytes() > 10; }));
  EXPECT_GE(connection_->partial_line_age(coarse_now()), std::chrono::seconds(5))
      << "the line began at the first read";
  write_all(peer_.get(), "\n");
  ASSERT_TRUE(run_until(loop_, [&] { return !handler_.lines.empty(); }));
  EXPECT_EQ(connection_->partial_line_age(coarse_now()), CoarseClock::duration::zero());
}

TEST_F(ConnectionTest, AnIncompleteLineDoesNotAgeWhileTheServerIsNotReading) {
  write_all(peer_.get(), "half a line");
  ASSERT_TRUE(run_until(loop_, [&] { return connection_->buffered_input_bytes() > 0; }));
  skew_clock(std::chrono::seconds(1));
  connection_->pause_reading();
  skew_clock(std::chrono::seconds(100));
  const auto age = connection_->partial_line_age(coarse_now());
  EXPECT_GE(age, std::chrono::seconds(1));
  EXPECT_LT(age, std::chrono::seconds(2))
      << "a paused connection's line waits on the server, not the peer";
  connection_->unpause_reading();
  loop_.run_once(0);
  skew_clock(std::chrono::seconds(1));
  const auto resumed_age = connection_->partial_line_age(coarse_now());
  EXPECT_GE(resumed_age, std::chrono::seconds(2));
  EXPECT_LT(resumed_age, std::chrono::seconds(3)) << "the clock runs again once reading resumes";
}

TEST_F(ConnectionTest, ReadsAtMostItsLineBudgetPerTurnAndResumesWithoutWaiting) {
  std::string lines;
  const int total = 3 * static_cast<int>(Connection::kLinesPerTurn) + 10;
  for (int i = 0; i < total; ++i) lines += std::to_string(i) + "\n";
  write_all(peer_.get(), lines);
  loop_.run_once(static_cast<int>(std::chrono::milliseconds(test::kGuard).count()));
  EXPECT_EQ(handler_.lines.size(), Connection::kLinesPerTurn);
  for (int turn = 0; turn < 3; ++turn) loop_.run_once(10'000);
  ASSERT_EQ(handler_.lines.size(), static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) {
    ASSERT_EQ(handler_.lines[static_cast<std::size_t>(i)], std::to_string(i));
  }
}

TEST_F(ConnectionTest, AnExpensiveLineCountsForMoreOfTheBudget) {
  handler_.on_line_action = [](Connection& connection, std::string_view line) {
    if (line == "/who") connection.charge_lines(Connection::kLinesPerTurn / 4 - 1);
  };
  std::string lines;
  for (int i = 0; i < 10; ++i) lines += "/who\n";
  write_all(peer_.get(), lines);
  loop_.run_once(static_cast<int>(std::chrono::milliseconds(test::kGuard).count()));
  EXPECT_EQ(handler_.lines.size(), 4u);
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.lines.size() == 10; }));
}

TEST_F(ConnectionTest, TheHandlerMayPauseTheConnectionBeforeARead) {
  handler_.before_reading_action = [](Connection& connection) { connection.pause_reading(); };
  write_all(peer_.get(), "wait for it\n");
  loop_.run_once(static_cast<int>(std::chrono::milliseconds(test::kGuard).count()));
  EXPECT_EQ(handler_.reads_announced, 1);
  EXPECT_TRUE(handler_.lines.empty()) << "paused before the read: nothing was read";
  handler_.before_reading_action = nullptr;
  connection_->unpause_reading();
  ASSERT_TRUE(run_until(loop_, [&] { return !handler_.lines.empty(); }));
  EXPECT_EQ(handler_.lines, std::vector<std::string>{"wait for it"});
}

TEST_F(ConnectionTest, APausedConnectionIsNotAskedAgainBeforeItResumes) {
  handler_.before_reading_action = [](Connection& connection) { connection.pause_reading(); };
  write_all(peer_.get(), "one\n");
  loop_.run_once(static_cast<int>(std::chrono::milliseconds(test::kGuard).count()));
  ASSERT_EQ(handler_.reads_announced, 1);
  write_all(peer_.get(), "two\n");  // a new edge while paused
  loop_.run_once(static_cast<int>(std::chrono::milliseconds(test::kGuard).count()));
  EXPECT_EQ(handler_.reads_announced, 1) << "one pause, one unpause: the counts stay even";
  handler_.before_reading_action = nullptr;
  connection_->unpause_reading();
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.lines.size() == 2; }));
}

TEST_F(ConnectionTest, UnpausingAClosedConnectionDoesNothing) {
  connection_->pause_reading();
  connection_->close_now(CloseReason::reader_stalled);
  connection_->unpause_reading();
  connection_->resume_reading();
  loop_.run_once(0);
  EXPECT_EQ(handler_.reads_announced, 0);
  EXPECT_EQ(handler_.closed, CloseReason::reader_stalled);
}

// A peer that keeps sending after the goodbye: the connection reads and discards a bounded
// amount before it closes (then the kernel answers the rest with a reset), instead of
// reading for as long as the peer writes.
// A restart hands a connection's state to a fresh Connection over the same socket: the
// stream goes on where it stopped, with nothing lost, repeated or reordered.
TEST_F(ConnectionTest, HandsOnItsUnhandledInputAndUnsentOutputInOrder) {
  handler_.on_line_action = [](Connection& connection, std::string_view line) {
    if (line == "pause here") connection.pause_reading();
  };
  write_all(peer_.get(), "first\npause here\nheld back\nhalf a li");
  ASSERT_TRUE(run_until(loop_, [&] { return connection_->is_reading_paused(); }));
  ASSERT_TRUE(queue("out one\n"));
  ASSERT_TRUE(queue("out two\n"));
  EXPECT_EQ(connection_->unhandled_input(), "held back\nhalf a li");
  EXPECT_EQ(connection_->unsent_output(), "out one\nout two\n");
  EXPECT_FALSE(connection_->is_skipping_long_line());
}

TEST_F(ConnectionTest, AnUnfinishedLineIsHandedOn) {
  write_all(peer_.get(), "half a li");
  ASSERT_TRUE(run_until(loop_, [&] { return connection_->buffered_input_bytes() > 0; }));
  EXPECT_EQ(connection_->unhandled_input(), "half a li");
}

TEST_F(ConnectionTest, RestoredInputIsHandledFirstWithItsAgeAndWithoutAnEdge) {
  connection_->restore_input("held back\nhalf a li", false, std::chrono::seconds(7));
  loop_.run_once(0);  // no edge: the socket is quiet
  EXPECT_EQ(handler_.lines, std::vector<std::string>{"held back"});
  EXPECT_GE(connection_->partial_line_age(coarse_now()), std::chrono::seconds(7));
  write_all(peer_.get(), "ne\n");
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.lines.size() == 2; }));
  EXPECT_EQ(handler_.lines.back(), "half a line");
}

TEST_F(ConnectionTest, ARestoredSkipOfAnOversizeLineGoesOnToItsEnd) {
  connection_->restore_input("", true, {});
  write_all(peer_.get(), "tail of a long line\nnext\n");
  ASSERT_TRUE(run_until(loop_, [&] { return !handler_.lines.empty(); }));
  EXPECT_EQ(handler_.lines, std::vector<std::string>{"next"});
  EXPECT_EQ(handler_.too_long, 0) << "it was reported before the restart";
}

TEST_F(ConnectionTcp, AClosingConnectionDrainsABoundedAmountOfInput) {
  test::set_buffer_size(pair_.accepted.get(), SO_RCVBUF, 4 * 1024 * 1024);
  Connection connection(loop_, std::move(pair_.accepted), handler_, limits_);
  connection.close_after_flush();
  // 2 MiB arrive after the goodbye and wait in the connection's receive buffer.
  const std::string flood(2 * 1024 * 1024, 'z');
  test::set_buffer_size(client_.get(), SO_SNDBUF, 4 * 1024 * 1024);
  std::size_t sent = 0;
  while (sent < flood.size()) {
    const ssize_t n = send(client_.get(), flood.data() + sent, flood.size() - sent, MSG_DONTWAIT);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ASSERT_GT(sent, 1024u * 1024) << "the test needs more in flight than one drain takes";
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.closed.has_value(); }));
  EXPECT_EQ(handler_.closed, CloseReason::server_closed);
  // Loopback delivers the FIN and then the reset before close() returns; a reset after a
  // FIN leaves EPIPE as the socket's error (tcp_reset() in the kernel).
  char byte = 0;
  EXPECT_EQ(recv(client_.get(), &byte, 1, MSG_DONTWAIT), 0) << "the goodbye: FIN";
  int error = 0;
  socklen_t length = sizeof error;
  ASSERT_EQ(getsockopt(client_.get(), SOL_SOCKET, SO_ERROR, &error, &length), 0);
  EXPECT_EQ(error, EPIPE) << "the rest was not read: a reset followed the FIN";
}

}  // namespace
}  // namespace epollchat
