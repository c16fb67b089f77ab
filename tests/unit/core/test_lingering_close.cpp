// LingeringClose: a socket with a last word on it is shut down for writing and kept, reading
// what the peer sends, until the peer closes or the linger time passes, so the peer reads
// the last word and an EOF rather than a reset.
#include "core/lingering_close.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <string>

#include "unit/unit_helpers.hpp"

namespace epollchat {
namespace {

using test::read_available;
using test::run_until;
using test::write_all;

TEST(LingeringClose, KeepsTheSocketUntilThePeerClosesAndReadsWhatItSends) {
  EventLoop loop;
  LingeringClose closer(loop, 4);
  test::SocketPair pair = test::make_socketpair();
  write_all(pair.local.get(), "*** Server full (1 clients); try again later.\n");
  write_all(pair.peer.get(), "hello, anyone?\n");  // unread: a plain close() would reset
  closer.close(std::move(pair.local));
  EXPECT_EQ(closer.held(), 1u);
  write_all(pair.peer.get(), "more\n");
  loop.run_once(0);
  EXPECT_EQ(closer.held(), 1u) << "the peer has not closed yet";
  bool eof = false;
  EXPECT_EQ(read_available(pair.peer.get(), &eof),
            "*** Server full (1 clients); try again later.\n");
  EXPECT_TRUE(eof) << "FIN after the last word";
  pair.peer.reset();
  ASSERT_TRUE(run_until(loop, [&] { return closer.held() == 0; }));
}

TEST(LingeringClose, ClosesAtOnceWhenFullOrWhenThePeerIsGone) {
  EventLoop loop;
  LingeringClose closer(loop, 1);
  test::SocketPair first = test::make_socketpair();
  test::SocketPair second = test::make_socketpair();
  closer.close(std::move(first.local));
  closer.close(std::move(second.local));
  EXPECT_EQ(closer.held(), 1u) << "over capacity: closed at once";
  bool eof = false;
  (void)read_available(second.peer.get(), &eof);
  EXPECT_TRUE(eof);

  test::SocketPair gone = test::make_socketpair();
  gone.peer.reset();
  LingeringClose other(loop, 4);
  other.close(std::move(gone.local));
  EXPECT_EQ(other.held(), 0u) << "the peer closed already: nothing to wait for";
}

TEST(LingeringClose, LetsGoAfterTheLingerTime) {
  EventLoop loop;
  LingeringClose closer(loop, 4);
  test::SocketPair pair = test::make_socketpair();
  closer.close(std::move(pair.local));
  ASSERT_EQ(closer.held(), 1u);
  // The timer runs on the real clock; the deadline is checked against the coarse clock.
  ASSERT_TRUE(run_until(
      loop, [&] { return closer.held() == 0; },
      std::chrono::duration_cast<std::chrono::milliseconds>(LingeringClose::kLinger +
                                                            std::chrono::seconds(2))));
  bool eof = false;
  (void)read_available(pair.peer.get(), &eof);
  EXPECT_TRUE(eof);
}

}  // namespace
}  // namespace epollchat
