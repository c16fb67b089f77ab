// Room: staging, broadcast order, the sender left out, and members leaving.
#include "chat/room.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "unit/unit_helpers.hpp"

namespace epollchat::chat {
namespace {

using test::read_available;

class NullHandler final : public ConnectionHandler {
 public:
  void on_line(Connection&, std::string_view) override {}
  void on_line_too_long(Connection&) override {}
  void on_input_batch_end(Connection&) override {}
  void on_throttled(Connection&) override {}
  void on_peer_finished(Connection&) override {}
  void on_closed(Connection&, CloseReason reason) override { closed.push_back(reason); }
  std::vector<CloseReason> closed;
};

class RoomTest : public ::testing::Test {
 protected:
  struct Member {
    UniqueFd peer;
    std::unique_ptr<Connection> connection;
  };

  Connection& join() {
    test::SocketPair pair = test::make_socketpair();
    auto& member = members_.emplace_back();
    member.peer = std::move(pair.peer);
    member.connection =
        std::make_unique<Connection>(loop_, std::move(pair.local), handler_, limits_);
    room_.add(*member.connection);
    return *member.connection;
  }

  // Everything member `index` has received after one more turn of the loop.
  std::string received(std::size_t index) {
    loop_.run_once(0);
    return read_available(members_.at(index).peer.get());
  }

  EventLoop loop_;
  ChunkPool pool_{4096, 8};
  ChunkWriter writer_{pool_};
  ConnectionLimits limits_;
  NullHandler handler_;
  // Declared after the pool and before the room, so connections go first, then the room.
  std::vector<Member> members_;
  Room room_{writer_, "lobby"};
};

TEST_F(RoomTest, StagedLinesAreQueuedOnFlushToEveryoneButTheSender) {
  Connection& a = join();
  Connection& b = join();
  Connection& c = join();
  room_.stage_chat_line(a, "Client #1", "hello");
  room_.stage_chat_line(a, "Client #1", "again");
  EXPECT_FALSE(b.has_pending_output()) << "staged lines wait for flush_staged()";
  room_.flush_staged();
  EXPECT_EQ(b.pending_bytes(), c.pending_bytes());
  EXPECT_FALSE(a.has_pending_output());
  const std::string expected = "Client #1 says >> hello\nClient #1 says >> again\n";
  EXPECT_EQ(received(1), expected);
  EXPECT_EQ(received(2), expected);
  EXPECT_EQ(received(0), "");
}

TEST_F(RoomTest, ConsecutiveLinesShareOneChunkAndOneRange) {
  Connection& a = join();
  Connection& b = join();
  for (int i = 0; i < 100; ++i) room_.stage_chat_line(a, "Client #1", "line " + std::to_string(i));
  room_.flush_staged();
  EXPECT_EQ(pool_.chunks_in_use(), 1u) << "formatted once, into one shared chunk";
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += "Client #1 says >> line " + std::to_string(i) + "\n";
  EXPECT_EQ(b.pending_bytes(), expected.size());
  EXPECT_EQ(received(1), expected);
}

TEST_F(RoomTest, InterleavedSendersKeepTheRoomsOrder) {
  Connection& a = join();
  Connection& b = join();
  join();
  room_.stage_chat_line(a, "Client #1", "a1");
  room_.stage_chat_line(b, "Client #2", "b1");
  room_.stage_chat_line(a, "Client #1", "a2");
  room_.flush_staged();
  EXPECT_EQ(received(0), "Client #2 says >> b1\n");
  EXPECT_EQ(received(1), "Client #1 says >> a1\nClient #1 says >> a2\n");
  EXPECT_EQ(received(2), "Client #1 says >> a1\nClient #2 says >> b1\nClient #1 says >> a2\n");
}

TEST_F(RoomTest, RemoteSendersReachEveryMemberInBatchesPerOrigin) {
  Connection& a = join();
  join();
  const int origin_x = 0;
  const int origin_y = 0;
  room_.stage_remote_chat_line(&origin_x, "Client #b7:1", "x1");
  room_.stage_remote_chat_line(&origin_x, "Client #b7:1", "x2");
  room_.stage_chat_line(a, "Client #1", "a1");
  room_.stage_remote_chat_line(&origin_y, "Client #c2:5", "y1");
  room_.flush_staged();
  const std::string remote_x = "Client #b7:1 says >> x1\nClient #b7:1 says >> x2\n";
  EXPECT_EQ(received(0), remote_x + "Client #c2:5 says >> y1\n");
  EXPECT_EQ(received(1), remote_x + "Client #1 says >> a1\nClient #c2:5 says >> y1\n");
}

TEST_F(RoomTest, SendToAfterStagedLinesKeepsOrder) {
  Connection& a = join();
  Connection& b = join();
  room_.stage_chat_line(a, "Client #1", "before");
  room_.send_to(b, "*** notice\n");
  room_.send_to(a, "*** You are alone in the chat room.\n");
  EXPECT_EQ(received(1), "Client #1 says >> before\n*** notice\n");
  EXPECT_EQ(received(0), "*** You are alone in the chat room.\n");
}

TEST_F(RoomTest, BroadcastAfterStagedLinesKeepsOrderAndHonoursExcept) {
  Connection& a = join();
  Connection& b = join();
  join();
  room_.stage_chat_line(a, "Client #1", "bye all");
  room_.broadcast("*** Client #2 left (2 online)\n", &b);
  room_.broadcast("*** everyone\n", nullptr);
  EXPECT_EQ(received(0), "*** Client #2 left (2 online)\n*** everyone\n");
  EXPECT_EQ(received(1), "Client #1 says >> bye all\n*** everyone\n");
  EXPECT_EQ(received(2),
            "Client #1 says >> bye all\n*** Client #2 left (2 online)\n*** everyone\n");
}

TEST_F(RoomTest, SendToReachesANonMember) {
  Connection& a = join();
  room_.remove(a);
  room_.send_to(a, "*** Server full (1 clients); try again later.\n");
  EXPECT_EQ(received(0), "*** Server full (1 clients); try again later.\n");
}

TEST_F(RoomTest, RemoveFlushesTheMembersStagedLines) {
  Connection& a = join();
  Connection& b = join();
  room_.stage_chat_line(a, "Client #1", "last words");
  room_.remove(a);
  EXPECT_FALSE(room_.contains(a));
  EXPECT_TRUE(b.has_pending_output()) << "lines accepted before leaving are still delivered";
  room_.broadcast("*** Client #1 left (1 online)\n", nullptr);
  EXPECT_EQ(received(1), "Client #1 says >> last words\n*** Client #1 left (1 online)\n");
  EXPECT_EQ(received(0), "") << "a removed member gets no more broadcasts";
}

TEST_F(RoomTest, AMemberWhoLeavesStillGetsWhatWasStagedBeforeIt) {
  Connection& a = join();
  Connection& b = join();
  join();
  room_.stage_chat_line(a, "Client #1", "hi");
  room_.remove(b);  // e.g. /join elsewhere: the line was accepted while b was here
  room_.stage_chat_line(a, "Client #1", "after");
  room_.flush_staged();
  EXPECT_EQ(received(1), "Client #1 says >> hi\n");
  EXPECT_EQ(received(2), "Client #1 says >> hi\nClient #1 says >> after\n");
}

TEST_F(RoomTest, AddFlushesFirstSoNewcomersGetNoEarlierLines) {
  Connection& a = join();
  join();
  room_.stage_chat_line(a, "Client #1", "before you came");
  join();
  room_.flush_staged();
  EXPECT_EQ(received(1), "Client #1 says >> before you came\n");
  EXPECT_EQ(received(2), "");
}

TEST_F(RoomTest, MembershipInJoinOrder) {
  Connection& a = join();
  Connection& b = join();
  Connection& c = join();
  EXPECT_EQ(room_.size(), 3u);
  room_.remove(b);
  EXPECT_EQ(room_.members(), (std::vector<Connection*>{&a, &c}));
  room_.remove(b);  // twice is harmless
  EXPECT_EQ(room_.size(), 2u);
  EXPECT_TRUE(room_.contains(c));
}

TEST_F(RoomTest, ControlCharactersInChatTextAreReplaced) {
  Connection& a = join();
  join();
  room_.stage_chat_line(a, "Client #1", "\x1b]0;pwned\x07\ttab");
  room_.flush_staged();
  EXPECT_EQ(received(1), "Client #1 says >> ?]0;pwned?\ttab\n");
}

TEST_F(RoomTest, KeepsChatLinesAndActionsInItsHistoryButNoNotices) {
  room_.history().set_capacity(10);
  Connection& a = join();
  join();
  room_.stage_chat_line(a, "Client #1", "hello\x1b[2J");
  room_.stage_remote_chat_line(&a, "Client #n2:1", "from afar");
  room_.broadcast_action("* Client #1 waves\n", &a);
  room_.broadcast("*** Client #3 joined (3 online)\n", nullptr);
  room_.send_to(a, "Client #2 whispers >> psst\n");
  room_.flush_staged();
  const RoomHistory& history = room_.history();
  ASSERT_EQ(history.size(), 3U);
  EXPECT_EQ(history.line(0), "Client #1 says >> hello?[2J");
  EXPECT_EQ(history.line(1), "Client #n2:1 says >> from afar");
  EXPECT_EQ(history.line(2), "* Client #1 waves");
  EXPECT_EQ(received(1),
            "Client #1 says >> hello?[2J\nClient #n2:1 says >> from afar\n* Client #1 waves\n"
            "*** Client #3 joined (3 online)\n");
}

TEST(RoomSmallChunks, LinesSpanningChunksArriveCompleteAndInOrder) {
  EventLoop loop;
  ChunkPool pool(64, 4);
  ConnectionLimits limits;
  NullHandler handler;
  test::SocketPair sender_pair = test::make_socketpair();
  test::SocketPair reader_pair = test::make_socketpair();
  Connection sender(loop, std::move(sender_pair.local), handler, limits);
  Connection reader(loop, std::move(reader_pair.local), handler, limits);
  {
    ChunkWriter writer(pool);
    Room room(writer, "lobby");
    room.add(sender);
    room.add(reader);
    std::string expected;
    for (int i = 0; i < 50; ++i) {
      const std::string text = "message number " + std::to_string(i);
      room.stage_chat_line(sender, "Client #1", text);
      expected += "Client #1 says >> " + text + "\n";
    }
    const std::string big(1000, 'B');  // larger than a whole chunk
    room.stage_chat_line(sender, "Client #1", big);
    expected += "Client #1 says >> " + big + "\n";
    room.broadcast("*** end\n", nullptr);
    expected += "*** end\n";
    loop.run_once(0);
    EXPECT_EQ(read_available(reader_pair.peer.get()), expected);
    EXPECT_EQ(read_available(sender_pair.peer.get()), "*** end\n");
  }
  EXPECT_EQ(pool.chunks_in_use(), 0u) << "sent and room gone: every chunk is back";
}

TEST_F(RoomTest, RoomsShareOneChunkAndAnIdleRoomHoldsNone) {
  Connection& a = join();
  Connection& b = join();
  std::vector<std::unique_ptr<Room>> rooms;
  for (int i = 0; i < 100; ++i) {
    rooms.push_back(std::make_unique<Room>(writer_, "room" + std::to_string(i)));
    rooms.back()->send_to(a, "*** You are alone in the chat room.\n");
  }
  EXPECT_EQ(received(0).size(), 100 * std::string("*** You are alone in the chat room.\n").size());
  EXPECT_LE(pool_.chunks_in_use(), 1u) << "100 rooms that said something hold the writer's chunk";
  (void)b;
}

TEST_F(RoomTest, AnotherRoomsLineHandsOnTheStagedBatchFirst) {
  Connection& a = join();
  Connection& b = join();
  Room other(writer_, "other");
  Connection& c = join();
  room_.remove(c);
  other.add(c);
  room_.stage_chat_line(a, "Client #1", "one");
  other.send_to(b, "*** a whisper\n");
  room_.stage_chat_line(a, "Client #1", "two");
  room_.flush_staged();
  EXPECT_EQ(received(1), "Client #1 says >> one\n*** a whisper\nClient #1 says >> two\n");
  EXPECT_EQ(received(2), "");
  other.remove(c);
}

TEST_F(RoomTest, AMemberOverItsBacklogIsClosedAndOthersAreUnaffected) {
  limits_.max_backlog = 16 * 1024;
  Connection& a = join();
  Connection& slow = join();
  Connection& fast = join();
  test::set_buffer_size(slow.fd(), SO_SNDBUF, 4096);  // and its peer never reads
  std::string fast_received;
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    const std::string text = std::to_string(i) + std::string(1000, '.');
    room_.stage_chat_line(a, "Client #1", text);
    room_.flush_staged();
    expected += "Client #1 says >> " + text + "\n";
    fast_received += received(2);
  }
  EXPECT_FALSE(slow.is_open());
  ASSERT_EQ(handler_.closed.size(), 1u);
  EXPECT_EQ(handler_.closed[0], CloseReason::backlog_exceeded);
  EXPECT_TRUE(room_.contains(slow)) << "the room never drops members by itself";
  EXPECT_TRUE(a.is_open());
  EXPECT_TRUE(fast.is_open());
  EXPECT_TRUE(fast_received == expected) << "the reading member got every line, in order";
  room_.remove(slow);
  room_.broadcast("*** still here\n", nullptr);
  EXPECT_EQ(received(2), "*** still here\n");
}

}  // namespace
}  // namespace epollchat::chat
