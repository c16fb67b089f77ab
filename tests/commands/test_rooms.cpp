// Rooms on a single daemon (no --redis): /join, /part and /rooms, and that chat, /me,
// notices and /who stay inside the current room while /msg crosses rooms.
//
// "Nothing else arrived" is proved with a marker line: the server keeps the order of what it
// queues for one client, so if the next line a client reads is a marker said after the event,
// nothing from the event was queued for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

constexpr std::string_view kInvalidRoom = "*** Invalid room name: use 1-32 letters, digits, _ or -";

class Rooms : public ::testing::Test {
 protected:
  // Connects `count` members to the lobby, their streams quiet (join_quiet()).
  void connect(std::size_t count) {
    members_ = join_quiet(daemon_.port(), count);
    rooms_.assign(count, "lobby");
  }

  Member& member(int index) { return members_.at(static_cast<std::size_t>(index)); }
  std::string name(int index) { return lines::client_name(member(index).id); }

  // `index` sends `command` (a /join or /part) and must be told it is now in `room` (as the
  // server spells it, in lower case) with `online` members. Others' notices are left unread.
  ::testing::AssertionResult move(int index, std::string_view command, std::string_view room,
                                  int online) {
    room_of(index) = room;
    member(index).client.send(std::string(command) + "\n");
    return member(index).client.expect_line(lines::now_in(room, online));
  }

  // move(), and then every other member of the room it left reads the left notice and every
  // other member of the room it entered the joined notice, so all streams stay quiet. The
  // online counts follow from the rooms that connect() and move() put members in; members
  // that have left are not tracked, so this is for the set-up before anyone leaves.
  ::testing::AssertionResult move_quiet(int index, std::string_view command,
                                        std::string_view room) {
    const std::string old_room = room_of(index);
    room_of(index) = room;
    if (auto moved = move(index, command, room, count_in(room)); !moved) return moved;
    for (int other = 0; other < static_cast<int>(rooms_.size()); ++other) {
      if (other == index) continue;
      std::string notice;
      if (room_of(other) == old_room) notice = lines::left(name(index), count_in(old_room));
      if (room_of(other) == room) notice = lines::joined(name(index), count_in(room));
      if (notice.empty()) continue;
      if (auto told = member(other).client.expect_line(notice); !told) {
        return told << " (read by " << name(other) << ")";
      }
    }
    return ::testing::AssertionSuccess();
  }

  DaemonProcess daemon_;
  std::vector<Member> members_;

 private:
  std::string& room_of(int index) { return rooms_.at(static_cast<std::size_t>(index)); }
  int count_in(std::string_view room) const {
    return static_cast<int>(std::count(rooms_.begin(), rooms_.end(), room));
  }

  std::vector<std::string> rooms_;  // the room of each member connect() joined, by index
};

TEST_F(Rooms, JoinTellsTheOldRoomTheNewRoomAndTheMover) {
  connect(4);
  // a leaves the lobby for a new room: the lobby hears it, a is told where it is.
  ASSERT_TRUE(move(0, "/join dev", "dev", 1));
  for (int i : {1, 2, 3}) EXPECT_TRUE(member(i).client.expect_line(lines::left(name(0), 3)));

  // b follows: a (in dev) hears the join, the lobby hears the leave.
  ASSERT_TRUE(move(1, "/join dev", "dev", 2));
  EXPECT_TRUE(member(0).client.expect_line(lines::joined(name(1), 2)));
  for (int i : {2, 3}) EXPECT_TRUE(member(i).client.expect_line(lines::left(name(1), 2)));

  // Nothing else reached anyone: no own notices for the movers, no join notice in the lobby.
  EXPECT_TRUE(expect_nothing_before_marker(member(0), member(1)));
  EXPECT_TRUE(expect_nothing_before_marker(member(1), member(0)));
  EXPECT_TRUE(expect_nothing_before_marker(member(2), member(3)));
  EXPECT_TRUE(expect_nothing_before_marker(member(3), member(2)));
}

TEST_F(Rooms, RoomNamesAreCaseInsensitiveAndShownInLowerCase) {
  connect(2);
  ASSERT_TRUE(move_quiet(0, "/join Dev", "dev"));
  // The command word is case-insensitive too, and any case of the name is the same room.
  ASSERT_TRUE(move(1, "/JOIN DEV", "dev", 2));
  EXPECT_TRUE(member(0).client.expect_line(lines::joined(name(1), 2)));
  member(0).client.send("/join dEv\n");
  EXPECT_TRUE(member(0).client.expect_line("*** You are already in dev."));
  member(0).client.send("/rooms\n");
  EXPECT_TRUE(member(0).client.expect_line("*** Rooms: lobby (0), dev (2)"));
}

TEST_F(Rooms, JoinErrorsAreRepliesOnly) {
  connect(2);
  Member& a = member(0);
  a.client.send("/join\n/join   \n");
  EXPECT_TRUE(a.client.expect_line("*** Usage: /join ROOM"));
  EXPECT_TRUE(a.client.expect_line("*** Usage: /join ROOM"));
  const std::vector<std::string> invalid = {
      std::string(33, 'a'), "a!b", "caf\xc3\xa9", "#dev", "dev.ops", "a\x1b[2J"};
  for (const std::string& room : invalid) {
    a.client.send("/join " + room + "\n");
    EXPECT_TRUE(a.client.expect_line(kInvalidRoom)) << escape_bytes(room);
  }
  a.client.send("/join lobby\n/join LOBBY\n/part\n");
  EXPECT_TRUE(a.client.expect_line("*** You are already in lobby."));
  EXPECT_TRUE(a.client.expect_line("*** You are already in lobby."));
  EXPECT_TRUE(a.client.expect_line("*** You are already in lobby."));
  // None of it reached b, and a is still in the lobby.
  EXPECT_TRUE(expect_nothing_before_marker(a, member(1)));

  // The longest name, and every kind of character a name may hold.
  const std::string longest = "A-b_" + std::string(28, 'z');
  ASSERT_TRUE(move(0, "/join " + longest, "a-b_" + std::string(28, 'z'), 1));
  EXPECT_TRUE(member(1).client.expect_line(lines::left(name(0), 1)));
  ASSERT_TRUE(move(0, "/join 0_-9", "0_-9", 1));
}

TEST_F(Rooms, PartGoesBackToTheLobbyWithTheSameNotices) {
  connect(3);
  ASSERT_TRUE(move_quiet(0, "/join dev", "dev"));
  ASSERT_TRUE(move_quiet(1, "/join dev", "dev"));

  ASSERT_TRUE(move(0, "/part", "lobby", 2));
  EXPECT_TRUE(member(1).client.expect_line(lines::left(name(0), 1)));
  EXPECT_TRUE(member(2).client.expect_line(lines::joined(name(0), 2)));
  // Arguments to /part are ignored; in the lobby it is the "already" reply.
  member(0).client.send("/PART now\n");
  EXPECT_TRUE(member(0).client.expect_line("*** You are already in lobby."));
  EXPECT_TRUE(expect_nothing_before_marker(member(0), member(2)));
  EXPECT_TRUE(expect_nothing_before_marker(member(2), member(0)));
}

TEST_F(Rooms, RoomsListsLobbyFirstThenTheOthersByName) {
  connect(3);
  member(0).client.send("/rooms\n");
  EXPECT_TRUE(member(0).client.expect_line("*** Rooms: lobby (3)"));

  ASSERT_TRUE(move_quiet(1, "/join dev", "dev"));
  ASSERT_TRUE(move_quiet(2, "/join dev", "dev"));
  // The reply as epollchatd(8) gives it, exactly.
  member(0).client.send("/rooms\n");
  EXPECT_TRUE(member(0).client.expect_line("*** Rooms: lobby (1), dev (2)"));

  // Sorted by name whatever the order of creation; the lobby stays first even when empty.
  ASSERT_TRUE(move_quiet(1, "/join zeta", "zeta"));
  ASSERT_TRUE(move_quiet(0, "/join alpha", "alpha"));
  member(2).client.send("/rooms\n");
  EXPECT_TRUE(member(2).client.expect_line("*** Rooms: lobby (0), alpha (1), dev (1), zeta (1)"));

  // A room is listed only while someone is in it.
  ASSERT_TRUE(move_quiet(2, "/part", "lobby"));
  member(2).client.send("/rooms\n");
  EXPECT_TRUE(member(2).client.expect_line("*** Rooms: lobby (1), alpha (1), zeta (1)"));
  // Joining it again creates it afresh.
  ASSERT_TRUE(move_quiet(2, "/join dev", "dev"));
  member(2).client.send("/rooms\n");
  EXPECT_TRUE(member(2).client.expect_line("*** Rooms: lobby (0), alpha (1), dev (1), zeta (1)"));
}

TEST_F(Rooms, ChatAndActionsReachOnlyTheRoom) {
  connect(4);
  ASSERT_TRUE(move_quiet(0, "/join dev", "dev"));
  ASSERT_TRUE(move_quiet(1, "/join dev", "dev"));

  // In dev: a and b. In the lobby: c and d.
  member(0).client.send("hello dev\n/me waves at dev\n");
  EXPECT_TRUE(member(1).client.expect_line(lines::says(name(0), "hello dev")));
  EXPECT_TRUE(member(1).client.expect_line(lines::action(name(0), "waves at dev")));
  member(2).client.send("hello lobby\n/me waves at the lobby\n");
  EXPECT_TRUE(member(3).client.expect_line(lines::says(name(2), "hello lobby")));
  EXPECT_TRUE(member(3).client.expect_line(lines::action(name(2), "waves at the lobby")));

  // Both rooms' lines were queued before these markers: neither crossed over.
  EXPECT_TRUE(expect_nothing_before_marker(member(3), member(2)));
  EXPECT_TRUE(expect_nothing_before_marker(member(1), member(0)));
  EXPECT_TRUE(expect_nothing_before_marker(member(2), member(3)));
  EXPECT_TRUE(expect_nothing_before_marker(member(0), member(1)));
}

TEST_F(Rooms, AloneInARoomIsToldSoEvenWithOthersElsewhere) {
  connect(2);
  ASSERT_TRUE(move_quiet(0, "/join dev", "dev"));
  member(0).client.send("anyone?\n/me looks around\n");
  EXPECT_TRUE(member(0).client.expect_line(lines::kAlone));
  EXPECT_TRUE(member(0).client.expect_line(lines::kAlone));
  // b is alone in the lobby now.
  member(1).client.send("hello?\n");
  EXPECT_TRUE(member(1).client.expect_line(lines::kAlone));
  // Together again in dev: chat flows.
  ASSERT_TRUE(move_quiet(1, "/join dev", "dev"));
  EXPECT_TRUE(expect_nothing_before_marker(member(1), member(0)));
}

TEST_F(Rooms, WhoListsOnlyTheRoom) {
  connect(4);
  ASSERT_TRUE(move_quiet(2, "/join dev", "dev"));
  ASSERT_TRUE(move_quiet(0, "/join dev", "dev"));

  // In the order of joining the room, not of connecting.
  member(0).client.send("/who\n");
  EXPECT_TRUE(member(0).client.expect_line(lines::who_reply({name(2), name(0)})));
  member(3).client.send("/who\n");
  EXPECT_TRUE(member(3).client.expect_line(lines::who_reply({name(1), name(3)})));
}

TEST_F(Rooms, MsgCrossesRooms) {
  connect(3);
  ASSERT_TRUE(move_quiet(0, "/join dev", "dev"));
  ASSERT_TRUE(take_nickname_seen_by(member(1), "bob", {&member(2)}));

  member(0).client.send("/msg bob psst from dev\n");
  EXPECT_TRUE(member(1).client.expect_line(lines::whispers(name(0), "psst from dev")));
  EXPECT_TRUE(member(0).client.expect_line("*** Sent to bob."));
  member(1).client.send("/msg #" + std::to_string(member(0).id) + " psst from the lobby\n");
  EXPECT_TRUE(member(0).client.expect_line("bob whispers >> psst from the lobby"));
  EXPECT_TRUE(member(1).client.expect_line(lines::sent_to(name(0))));
  // The third member, in the lobby with bob, saw neither whisper.
  EXPECT_TRUE(expect_nothing_before_marker(member(1), member(2)));
}

TEST_F(Rooms, RenameReachesOnlyTheCurrentRoom) {
  connect(4);
  ASSERT_TRUE(move_quiet(0, "/join dev", "dev"));
  ASSERT_TRUE(move_quiet(1, "/join dev", "dev"));

  ASSERT_TRUE(take_nickname(member(0), "alice"));
  EXPECT_TRUE(member(1).client.expect_line(lines::known_as(name(0), "alice")));
  ASSERT_TRUE(take_nickname(member(2), "carol"));
  EXPECT_TRUE(member(3).client.expect_line(lines::known_as(name(2), "carol")));

  EXPECT_TRUE(expect_nothing_before_marker(member(3), member(2)));
  EXPECT_TRUE(expect_nothing_before_marker(member(1), member(0)));
  EXPECT_TRUE(expect_nothing_before_marker(member(0), member(1)));
  EXPECT_TRUE(expect_nothing_before_marker(member(2), member(3)));
  // Nicknames are still unique across rooms.
  member(3).client.send("/nick ALICE\n");
  EXPECT_TRUE(member(3).client.expect_line("*** Nickname ALICE is taken."));
}

TEST_F(Rooms, DisconnectTellsOnlyTheCurrentRoom) {
  connect(5);
  for (int i : {0, 1, 2}) ASSERT_TRUE(move_quiet(i, "/join dev", "dev"));

  // dev: a, b, c. lobby: d, e. b drops its connection; c quits with a reason.
  member(1).client.close();
  EXPECT_TRUE(member(0).client.expect_line(lines::left(name(1), 2)));
  EXPECT_TRUE(member(2).client.expect_line(lines::left(name(1), 2)));
  member(2).client.send("/quit see you\n");
  EXPECT_TRUE(member(0).client.expect_line(lines::left(name(2), 1) + ": see you"));
  EXPECT_TRUE(member(2).client.read_until_closed());

  // The lobby heard none of it (both leaves were queued before this marker).
  EXPECT_TRUE(expect_nothing_before_marker(member(3), member(4)));
  member(4).client.send("/rooms\n");
  EXPECT_TRUE(member(4).client.expect_line("*** Rooms: lobby (2), dev (1)"));
}

TEST_F(Rooms, ConnectingJoinsTheLobbyOnly) {
  connect(2);
  ASSERT_TRUE(move_quiet(0, "/join dev", "dev"));
  members_.push_back(join(daemon_.port()));
  // The newcomer is counted in the lobby only, and only the lobby is told.
  EXPECT_TRUE(member(1).client.expect_line(lines::joined(member(2).id, 2)));
  member(2).client.send("/who\n");
  EXPECT_TRUE(member(2).client.expect_line(lines::who_reply({name(1), name(2)})));
  // a, alone in dev, was told nothing: its next line is the reply to its own chat.
  member(0).client.send("still here?\n");
  EXPECT_TRUE(member(0).client.expect_line(lines::kAlone));
}

TEST_F(Rooms, SeveralCommandsInOneWriteKeepTheirOrder) {
  connect(2);
  // One read holds a chat line, a move, a chat line in the new room and a move back.
  member(0).client.send("before\n/join dev\nin dev\n/part\nafter\n");
  EXPECT_TRUE(member(0).client.expect_line(lines::now_in("dev", 1)));
  EXPECT_TRUE(member(0).client.expect_line(lines::kAlone));
  EXPECT_TRUE(member(0).client.expect_line(lines::now_in("lobby", 2)));
  // Back in the lobby, it reads the lobby's history: its own line from before the move (the
  // line it said alone in dev reached nobody, and is in no history).
  EXPECT_TRUE(member(0).client.expect_line(lines::kHistoryStart));
  const auto kept = member(0).client.read_line();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(lines::strip_history_time(*kept).value_or(*kept), lines::says(name(0), "before"));
  EXPECT_TRUE(member(0).client.expect_line(lines::kHistoryEnd));
  EXPECT_TRUE(member(1).client.expect_line(lines::says(name(0), "before")));
  EXPECT_TRUE(member(1).client.expect_line(lines::left(name(0), 1)));
  EXPECT_TRUE(member(1).client.expect_line(lines::joined(name(0), 2)));
  EXPECT_TRUE(member(1).client.expect_line(lines::says(name(0), "after")));
  EXPECT_TRUE(expect_nothing_before_marker(member(1), member(0)));
}

}  // namespace
}  // namespace epollchat::test
