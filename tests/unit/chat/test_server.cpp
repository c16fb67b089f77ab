// Server, as a node on its own: what its clients see when they arrive, chat, take nicknames,
// move between rooms, whisper and leave; the refusal when it is full; the counters its
// status shows; and the shutdown. The clients are socketpairs in this process
// (chat_harness.hpp): no daemon, no Redis.
#include "chat/server.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/server_limits.hpp"
#include "core/socket.hpp"
#include "support/protocol_lines.hpp"
#include "unit/chat/chat_harness.hpp"

namespace epollchat::chat {
namespace {

using test::ChatHarness;
using test::ClientEnd;
namespace lines = test::lines;
using Lines = std::vector<std::string>;

TEST(Server, WelcomesEachClientAndTellsTheOthersTheCount) {
  ChatHarness harness;
  ClientEnd& first = harness.connect();
  EXPECT_EQ(first.next_line(), lines::welcome(1));
  ClientEnd& second = harness.connect();
  EXPECT_EQ(second.next_line(), lines::welcome(2));
  EXPECT_EQ(first.next_line(), lines::joined(2, 2));
  ClientEnd& third = harness.connect();
  EXPECT_EQ(third.next_line(), lines::welcome(3));
  EXPECT_EQ(first.next_line(), lines::joined(3, 3));
  EXPECT_EQ(second.next_line(), lines::joined(3, 3));
  // Nobody hears of their own arrival.
  EXPECT_EQ(first.sync(), Lines{});
  EXPECT_EQ(second.sync(), Lines{});
  EXPECT_EQ(third.sync(), Lines{});
}

TEST(Server, RelaysChatToTheOthersInTheRoomButNotToTheSender) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  clients[0]->send("hello\nhow are you?\n");
  EXPECT_EQ(clients[1]->next_lines(2),
            (Lines{lines::says(1, "hello"), lines::says(1, "how are you?")}));
  EXPECT_EQ(clients[2]->next_lines(2),
            (Lines{lines::says(1, "hello"), lines::says(1, "how are you?")}));
  EXPECT_EQ(clients[0]->sync(), Lines{}) << "the sender got its own lines back";
}

TEST(Server, TellsAClientAloneInItsRoomThatNobodyHeardIt) {
  ChatHarness harness;
  ClientEnd& alone = *harness.connect_settled(1)[0];
  alone.send_line("anyone there?");
  EXPECT_EQ(alone.next_line(), lines::kAlone);
  EXPECT_EQ(harness.server().relayed(), 0U);

  ClientEnd& company = harness.connect();
  EXPECT_EQ(alone.next_line(), lines::joined(2, 2));
  alone.send_line("hello");
  EXPECT_EQ(company.next_lines(2), (Lines{lines::welcome(2), lines::says(1, "hello")}));
  EXPECT_EQ(alone.sync(), Lines{}) << "told it was alone with company";
}

TEST(Server, ANicknameOneClientHoldsIsTakenForTheOthersInAnyCase) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  ClientEnd& alice = *clients[0];
  ClientEnd& other = *clients[1];
  alice.send_line("/nick alice");
  EXPECT_EQ(alice.next_line(), "*** You are now known as alice.");
  EXPECT_EQ(other.next_line(), "*** Client #1 is now known as alice");

  other.send_line("/nick ALICE");
  EXPECT_EQ(other.next_line(), "*** Nickname ALICE is taken.");
  other.send_line("hi alice");
  EXPECT_EQ(alice.next_line(), lines::says(2, "hi alice")) << "the refused name was given";
  alice.send_line("hi");
  EXPECT_EQ(other.next_line(), "alice says >> hi");
}

TEST(Server, AChangeOfCaseKeepsTheName) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  ClientEnd& alice = *clients[0];
  ClientEnd& other = *clients[1];
  alice.send_line("/nick alice");
  EXPECT_EQ(alice.next_line(), "*** You are now known as alice.");
  EXPECT_EQ(other.next_line(), "*** Client #1 is now known as alice");

  alice.send_line("/nick Alice");
  EXPECT_EQ(alice.next_line(), "*** You are now known as Alice.");
  EXPECT_EQ(other.next_line(), "*** alice is now known as Alice");
  EXPECT_EQ(harness.server().nicknames().holder("alice"), alice.id());
  other.send_line("/nick alice");
  EXPECT_EQ(other.next_line(), "*** Nickname alice is taken.");
  alice.send_line("/nick Alice");
  EXPECT_EQ(alice.next_line(), "*** You are already known as Alice.");
}

TEST(Server, ANameIsFreeOnceItsHolderTookAnotherOrLeft) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  ClientEnd& holder = *clients[0];
  ClientEnd& second = *clients[1];
  ClientEnd& third = *clients[2];
  holder.send_line("/nick alice");
  EXPECT_EQ(holder.next_line(), "*** You are now known as alice.");
  holder.send_line("/nick alicia");
  EXPECT_EQ(holder.next_line(), "*** You are now known as alicia.");
  second.send_line("/nick alice");
  EXPECT_EQ(second.sync(),
            (Lines{"*** Client #1 is now known as alice", "*** alice is now known as alicia",
                   "*** You are now known as alice."}));

  holder.close();
  EXPECT_EQ(third.next_lines(4),
            (Lines{"*** Client #1 is now known as alice", "*** alice is now known as alicia",
                   "*** Client #2 is now known as alice", "*** alicia left (2 online)"}));
  third.send_line("/nick alicia");
  EXPECT_EQ(third.next_line(), "*** You are now known as alicia.");
}

TEST(Server, JoinAndPartMoveAClientWithNoticesToBothRooms) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  ClientEnd& mover = *clients[0];
  ClientEnd& stays = *clients[1];
  ClientEnd& ahead = *clients[2];
  ahead.send_line("/join dev");
  EXPECT_EQ(ahead.next_line(), "*** You are now in dev (1 online).");
  EXPECT_EQ(mover.next_line(), lines::left(3, 2));
  EXPECT_EQ(stays.next_line(), lines::left(3, 2));

  mover.send_line("/join DEV");
  EXPECT_EQ(mover.next_line(), "*** You are now in dev (2 online).");
  EXPECT_EQ(stays.next_line(), lines::left(1, 1));
  EXPECT_EQ(ahead.next_line(), lines::joined(1, 2));
  mover.send_line("in dev");
  EXPECT_EQ(ahead.next_line(), lines::says(1, "in dev"));

  mover.send_line("/part");
  EXPECT_EQ(mover.next_line(), "*** You are now in lobby (2 online).");
  EXPECT_EQ(ahead.next_line(), lines::left(1, 1));
  EXPECT_EQ(stays.next_line(), lines::joined(1, 2));
  mover.send_line("back");
  EXPECT_EQ(stays.next_line(), lines::says(1, "back"));
  EXPECT_EQ(ahead.sync(), Lines{}) << "a line said in the lobby reached dev";

  mover.send_line("/part");
  EXPECT_EQ(mover.next_line(), "*** You are already in lobby.");
}

TEST(Server, RoomsListsEveryRoomWithMembersAndAnEmptyRoomVanishes) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  clients[0]->send_line("/join dev");
  EXPECT_EQ(clients[0]->next_line(), "*** You are now in dev (1 online).");
  clients[1]->send_line("/join ops");
  EXPECT_EQ(clients[1]->next_lines(2),
            (Lines{lines::left(1, 2), "*** You are now in ops (1 online)."}));
  clients[2]->send_line("/rooms");
  EXPECT_EQ(clients[2]->sync(), (Lines{lines::left(1, 2), lines::left(2, 1),
                                       "*** Rooms: lobby (1), dev (1), ops (1)"}));

  clients[1]->send_line("/part");
  EXPECT_EQ(clients[1]->next_line(), "*** You are now in lobby (2 online).");
  EXPECT_EQ(harness.server().rooms().find("ops"), nullptr);
  clients[2]->send_line("/rooms");
  EXPECT_EQ(clients[2]->sync(), (Lines{lines::joined(2, 2), "*** Rooms: lobby (2), dev (1)"}));

  // The lobby is listed even when empty.
  clients[1]->send_line("/join dev");
  EXPECT_EQ(clients[1]->next_line(), "*** You are now in dev (2 online).");
  clients[2]->send_line("/join dev");
  clients[2]->send_line("/rooms");
  EXPECT_EQ(clients[2]->sync().back(), "*** Rooms: lobby (0), dev (3)");
}

TEST(Server, WhoListsTheMembersOfTheRoomOnlyInJoinOrder) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(4);
  clients[1]->send_line("/nick bob");
  EXPECT_EQ(clients[1]->next_line(), "*** You are now known as bob.");
  EXPECT_EQ(clients[2]->next_line(), "*** Client #2 is now known as bob");
  clients[2]->send_line("/join dev");
  EXPECT_EQ(clients[2]->next_line(), "*** You are now in dev (1 online).");
  clients[0]->send_line("/who");
  EXPECT_EQ(clients[0]->sync(), (Lines{"*** Client #2 is now known as bob", lines::left(3, 3),
                                       "*** 3 online: Client #1, bob, Client #4"}));
  clients[2]->send_line("/who");
  EXPECT_EQ(clients[2]->sync(), (Lines{"*** 1 online: Client #3"}));
}

TEST(Server, WhisperReachesANicknameOrAnIdInAnyRoomAndNobodyElse) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  ClientEnd& alice = *clients[0];
  ClientEnd& sender = *clients[1];
  ClientEnd& bystander = *clients[2];
  alice.send_line("/nick alice");
  EXPECT_EQ(alice.next_line(), "*** You are now known as alice.");
  EXPECT_EQ(bystander.next_line(), "*** Client #1 is now known as alice");
  EXPECT_EQ(sender.next_line(), "*** Client #1 is now known as alice");

  sender.send_line("/msg ALICE psst");
  EXPECT_EQ(alice.next_line(), "Client #2 whispers >> psst");
  EXPECT_EQ(sender.next_line(), "*** Sent to alice.");
  alice.send_line("/join dev");
  EXPECT_EQ(alice.next_line(), "*** You are now in dev (1 online).");
  sender.send_line("/msg #1 still there?");
  EXPECT_EQ(alice.next_line(), "Client #2 whispers >> still there?");
  EXPECT_EQ(sender.sync(), (Lines{"*** alice left (2 online)", "*** Sent to alice."}));
  EXPECT_EQ(bystander.sync(), (Lines{"*** alice left (2 online)"}));
  EXPECT_EQ(harness.server().relayed(), 2U);
}

TEST(Server, WhisperToAClientThatLeftFindsNoSuchUser) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  ClientEnd& gone = *clients[0];
  ClientEnd& sender = *clients[1];
  gone.send_line("/nick alice");
  EXPECT_EQ(sender.next_line(), "*** Client #1 is now known as alice");
  gone.close();
  EXPECT_EQ(sender.next_line(), "*** alice left (1 online)");
  sender.send_line("/msg alice are you there?");
  EXPECT_EQ(sender.next_line(), "*** No such user alice.");
  sender.send_line("/msg #1 are you there?");
  EXPECT_EQ(sender.next_line(), "*** No such user #1.");
  EXPECT_EQ(harness.server().relayed(), 0U);
}

TEST(Server, QuitTellsTheRoomTheReasonAndClosesTheConnection) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(2);
  ClientEnd& quitter = *clients[0];
  ClientEnd& stays = *clients[1];
  quitter.send_line("/quit see you later");
  EXPECT_EQ(stays.next_line(), "*** Client #1 left (1 online): see you later");
  ASSERT_TRUE(quitter.wait_closed());
  EXPECT_EQ(quitter.lines_so_far(), Lines{});
  EXPECT_EQ(harness.server().online(), 1U);
  EXPECT_TRUE(harness.run_until([&] { return harness.server().sessions().size() == 1; }));

  stays.send_line("/quit");
  ASSERT_TRUE(stays.wait_closed());
  EXPECT_EQ(harness.server().online(), 0U);
}

TEST(Server, RefusesAClientOverMaxClientsWithTheNotice) {
  ServerLimits limits;
  limits.max_clients = 2;
  ChatHarness harness(limits);
  const auto clients = harness.connect_settled(2);

  ClientEnd& refused = harness.connect();
  EXPECT_EQ(refused.id(), 0U);
  EXPECT_EQ(refused.next_line(), "*** Server full (2 clients); try again later.");
  ASSERT_TRUE(refused.wait_closed());
  EXPECT_EQ(clients[1]->sync(), Lines{}) << "a refused client was announced";
  EXPECT_EQ(harness.server().online(), 2U);

  clients[0]->close();
  EXPECT_EQ(clients[1]->next_line(), lines::left(1, 1));
  ASSERT_TRUE(harness.run_until([&] { return harness.server().sessions().size() == 1; }));
  ClientEnd& admitted = harness.connect();
  EXPECT_EQ(admitted.next_line(), lines::welcome(3));
  EXPECT_EQ(clients[1]->next_line(), lines::joined(3, 2));
}

TEST(Server, CountsClientsOnlineAndLinesRelayed) {
  ChatHarness harness;
  Server& server = harness.server();
  int changes = 0;
  server.on_status_change([&changes] { ++changes; });
  EXPECT_EQ(server.online(), 0U);
  EXPECT_EQ(server.relayed(), 0U);

  const auto clients = harness.connect_settled(2);
  EXPECT_EQ(server.online(), 2U);
  EXPECT_EQ(changes, 1) << "told more than once before the change was taken";
  EXPECT_TRUE(server.take_status_change());
  EXPECT_FALSE(server.take_status_change());

  clients[0]->send("one\ntwo\n");
  EXPECT_EQ(clients[1]->next_lines(2), (Lines{lines::says(1, "one"), lines::says(1, "two")}));
  EXPECT_EQ(server.relayed(), 2U);
  EXPECT_EQ(changes, 2);
  clients[0]->send_line("/me waves");
  EXPECT_EQ(clients[1]->next_line(), "* Client #1 waves");
  clients[1]->send_line("/msg #1 hi");
  EXPECT_EQ(clients[0]->next_line(), "Client #2 whispers >> hi");
  EXPECT_EQ(server.relayed(), 4U);
  // Commands that reach nobody else are not relayed lines.
  clients[0]->send_line("/who");
  EXPECT_EQ(clients[0]->sync(), (Lines{"*** 2 online: Client #1, Client #2"}));
  EXPECT_EQ(server.relayed(), 4U);

  EXPECT_TRUE(server.take_status_change());
  clients[1]->close();
  EXPECT_EQ(clients[0]->next_line(), lines::left(2, 1));
  EXPECT_EQ(server.online(), 1U);
  EXPECT_EQ(changes, 3);
  EXPECT_TRUE(server.take_status_change());
}

TEST(Server, ShutdownTellsEveryoneInEveryRoomAndClosesEachConnection) {
  ChatHarness harness;
  const auto clients = harness.connect_settled(3);
  clients[2]->send_line("/join dev");
  EXPECT_EQ(clients[2]->next_line(), "*** You are now in dev (1 online).");
  EXPECT_EQ(clients[0]->next_line(), lines::left(3, 2));
  EXPECT_EQ(clients[1]->next_line(), lines::left(3, 2));

  harness.server().begin_shutdown();
  EXPECT_TRUE(harness.server().is_shutting_down());
  for (ClientEnd* client : clients) {
    EXPECT_EQ(client->next_line(), lines::kShuttingDown);
    EXPECT_TRUE(client->wait_closed());
    EXPECT_EQ(client->lines_so_far(), Lines{}) << "more than the notice before the close";
  }
  EXPECT_TRUE(harness.run_until([&] { return !harness.server().has_sessions(); }));

  ClientEnd& late = harness.connect();
  EXPECT_EQ(late.id(), 0U);
  EXPECT_TRUE(late.wait_closed());
  EXPECT_EQ(late.lines_so_far(), Lines{}) << "a client was welcomed during the shutdown";
}

// ---- The allow list ----

// A TCP connection over loopback from `source`: the server's end, as accepted, and the
// client's, non-blocking as ClientEnd wants it.
struct TcpConnection {
  UniqueFd accepted;
  UniqueFd client;
};

TcpConnection connect_over_loopback(std::string_view source) {
  const UniqueFd listening = listen_tcp(*SocketAddress::from_numeric("127.0.0.1", 0), 4);
  const SocketAddress to = SocketAddress::local_of(listening.get());
  TcpConnection connection;
  connection.client.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const SocketAddress from = *SocketAddress::from_numeric(source, 0);
  EXPECT_EQ(bind(connection.client.get(), from.data(), from.size()), 0);
  EXPECT_EQ(connect(connection.client.get(), to.data(), to.size()), 0);
  set_nonblocking(connection.client.get());
  connection.accepted.reset(
      accept4(listening.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  EXPECT_TRUE(connection.accepted);
  return connection;
}

TEST(Server, RefusesAPeerOutsideTheAllowListWithTheNotice) {
  ServerLimits limits;
  limits.allowed = *AddressRanges::parse("127.0.0.2");
  ChatHarness harness(limits);
  ClientEnd& member = harness.connect();
  (void)member.sync();

  TcpConnection outside = connect_over_loopback("127.0.0.1");
  harness.server().on_accepted(std::move(outside.accepted));
  ClientEnd refused(harness.loop(), std::move(outside.client), 0);
  EXPECT_EQ(refused.next_line(), lines::not_allowed("127.0.0.1"));
  ASSERT_TRUE(refused.wait_closed());
  EXPECT_EQ(harness.server().sessions().size(), 1U);
  EXPECT_EQ(member.sync(), Lines{}) << "a refused peer was announced";

  TcpConnection inside = connect_over_loopback("127.0.0.2");
  harness.server().on_accepted(std::move(inside.accepted));
  ClientEnd admitted(harness.loop(), std::move(inside.client), 2);
  EXPECT_EQ(admitted.next_line(), lines::welcome(2)) << "the refused peer took no id";
  EXPECT_EQ(member.next_line(), lines::joined(2, 2));
}

TEST(Server, AllowListLeavesUnixSocketPeersAlone) {
  ServerLimits limits;
  limits.allowed = *AddressRanges::parse("10.0.0.0/8");
  ChatHarness harness(limits);
  ClientEnd& client = harness.connect();
  EXPECT_EQ(client.next_line(), lines::welcome(1));
}

}  // namespace
}  // namespace epollchat::chat
