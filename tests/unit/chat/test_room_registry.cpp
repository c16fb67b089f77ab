// RoomRegistry: the lobby is always there, rooms are found by their lower-case names, an empty
// room closes when told it may, and a room with members does not.
#include "chat/room_registry.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/connection.hpp"
#include "core/event_loop.hpp"
#include "unit/unit_helpers.hpp"

namespace epollchat::chat {
namespace {

using test::read_available;

class IgnoringHandler final : public ConnectionHandler {
 public:
  void on_line(Connection& /*connection*/, std::string_view /*line*/) override {}
  void on_line_too_long(Connection& /*connection*/) override {}
  void on_input_batch_end(Connection& /*connection*/) override {}
  void on_throttled(Connection& /*connection*/) override {}
  void on_peer_finished(Connection& /*connection*/) override {}
  void on_closed(Connection& /*connection*/, CloseReason /*reason*/) override {}
};

std::vector<std::string> names_of(const RoomRegistry& rooms) {
  std::vector<std::string> names;
  rooms.for_each([&names](const Room& room) { names.push_back(room.name()); });
  return names;
}

TEST(RoomRegistry, HasTheLobbyFromTheStart) {
  RoomRegistry rooms;
  EXPECT_EQ(rooms.lobby().name(), "lobby");
  EXPECT_EQ(rooms.find("lobby"), &rooms.lobby());
  EXPECT_EQ(rooms.size(), 1U);
}

TEST(RoomRegistry, OpensARoomOnceUnderItsLowerCaseName) {
  RoomRegistry rooms;
  Room& games = rooms.open("Games");
  EXPECT_EQ(games.name(), "games");
  EXPECT_EQ(&rooms.open("GAMES"), &games);
  EXPECT_EQ(rooms.find("games"), &games);
  EXPECT_EQ(rooms.find("Games"), nullptr) << "find() takes the lower-case name";
  EXPECT_EQ(&rooms.open("LOBBY"), &rooms.lobby());
  EXPECT_EQ(names_of(rooms), (std::vector<std::string>{"games", "lobby"}));
}

TEST(RoomRegistry, ClosesAnEmptyRoomButNeverTheLobby) {
  RoomRegistry rooms;
  rooms.close_if_empty(rooms.open("dev"));
  EXPECT_EQ(rooms.find("dev"), nullptr);
  rooms.close_if_empty(rooms.lobby());
  EXPECT_EQ(rooms.find("lobby"), &rooms.lobby());
  EXPECT_EQ(rooms.size(), 1U);
}

TEST(RoomRegistry, KeepsARoomWithMembersAndBroadcastsToEveryRoom) {
  EventLoop loop;
  IgnoringHandler handler;
  RoomRegistry rooms;
  test::SocketPair in_lobby = test::make_socketpair();
  test::SocketPair in_ops = test::make_socketpair();
  // A connection keeps a reference to its limits: they outlive it.
  const ConnectionLimits limits;
  Connection lobby_member(loop, std::move(in_lobby.local), handler, limits);
  Connection ops_member(loop, std::move(in_ops.local), handler, limits);
  rooms.lobby().add(lobby_member);
  Room& ops = rooms.open("ops");
  ops.add(ops_member);

  rooms.close_if_empty(ops);
  ASSERT_EQ(rooms.find("ops"), &ops);

  rooms.broadcast_everywhere("*** Server shutting down.\n");
  loop.run_once(0);
  EXPECT_EQ(read_available(in_lobby.peer.get()), "*** Server shutting down.\n");
  EXPECT_EQ(read_available(in_ops.peer.get()), "*** Server shutting down.\n");

  ops.remove(ops_member);
  rooms.lobby().remove(lobby_member);
  rooms.close_if_empty(ops);
  EXPECT_EQ(rooms.find("ops"), nullptr);
}

TEST(RoomRegistry, KeepsTheHistoryOfARoomThatClosedForWhenItOpensAgain) {
  RoomRegistry rooms;
  rooms.set_history_lines(5);
  EXPECT_EQ(rooms.lobby().history().capacity(), 5U);
  Room& ops = rooms.open("ops");
  ops.history().record("a says >> kept", 1);
  rooms.close_if_empty(ops);
  ASSERT_EQ(rooms.find("ops"), nullptr);
  EXPECT_EQ(rooms.kept_histories(), 1U);

  Room& again = rooms.open("OPS");
  ASSERT_EQ(again.history().size(), 1U);
  EXPECT_EQ(again.history().line(0), "a says >> kept");
  EXPECT_EQ(rooms.kept_histories(), 0U);
  EXPECT_EQ(rooms.open("dev").history().size(), 0U) << "another room's history";
}

TEST(RoomRegistry, KeepsTheHistoriesOfABoundedNumberOfClosedRoomsTheNewestFirst) {
  RoomRegistry rooms;
  rooms.set_history_lines(1);
  const std::size_t closed = RoomRegistry::kMaxKeptHistories + 3;
  for (std::size_t i = 0; i < closed; ++i) {
    Room& room = rooms.open("r" + std::to_string(i));
    room.history().record("line " + std::to_string(i), 1);
    rooms.close_if_empty(room);
  }
  EXPECT_EQ(rooms.kept_histories(), RoomRegistry::kMaxKeptHistories);
  EXPECT_TRUE(rooms.open("r2").history().is_empty()) << "the oldest are dropped";
  EXPECT_EQ(rooms.open("r3").history().line(0), "line 3");
  // A room closed with nothing said keeps no place.
  rooms.close_if_empty(*rooms.find("r2"));
  EXPECT_EQ(rooms.kept_histories(), RoomRegistry::kMaxKeptHistories - 1);
}

TEST(RoomRegistry, HistoryLengthAppliesToOpenAndClosedRoomsAndZeroForgetsAll) {
  RoomRegistry rooms;
  rooms.set_history_lines(3);
  Room& ops = rooms.open("ops");
  for (int i = 0; i < 3; ++i) {
    rooms.lobby().history().record("lobby " + std::to_string(i), 1);
    ops.history().record("ops " + std::to_string(i), 1);
  }
  rooms.close_if_empty(ops);
  rooms.set_history_lines(1);
  EXPECT_EQ(rooms.lobby().history().size(), 1U);
  EXPECT_EQ(rooms.lobby().history().line(0), "lobby 2");
  EXPECT_EQ(rooms.open("ops").history().line(0), "ops 2");
  EXPECT_EQ(rooms.open("new").history().capacity(), 1U);
  rooms.set_history_lines(0);
  EXPECT_TRUE(rooms.lobby().history().is_empty());
  EXPECT_TRUE(rooms.find("ops")->history().is_empty());
  EXPECT_EQ(rooms.kept_histories(), 0U);
}

}  // namespace
}  // namespace epollchat::chat
