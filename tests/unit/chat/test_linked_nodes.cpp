// LinkedNodes, through a Server whose link to the other nodes is a FakeLink: what the server
// publishes about its clients, what it makes of other nodes' messages, nickname claims, and
// the link going down and coming back. No Redis: the test plays the other nodes.
#include "chat/linked_nodes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "chat/node_message.hpp"
#include "chat/server.hpp"
#include "chat/server_limits.hpp"
#include "unit/chat/chat_harness.hpp"
#include "unit/chat/fake_link.hpp"

namespace epollchat::chat {
namespace {

using test::ChatHarness;
using test::ClientEnd;
using test::FakeLink;
using Lines = std::vector<std::string>;

const std::string kLinkLost = "*** Link to other servers lost; chatting locally.";
const std::string kLinkRestored = "*** Link restored.";

// A message of node "b" (a client of it, `id`, called `name`, in `room`).
NodeMessage from_node_b(NodeMessageKind kind, std::uint64_t id, std::string_view room,
                        std::string_view name, std::string_view text = {}) {
  NodeMessage message = node_message(kind);
  message.instance = "00000000000000bb";
  message.node = "b";
  message.id = id;
  message.room = room;
  message.name = name;
  message.text = text;
  return message;
}

// A server linked to the others, the link up, `count` clients connected and settled, and
// what was published so far (roster, sync, joins) forgotten.
class LinkedServer {
 public:
  explicit LinkedServer(std::size_t count, const ServerLimits& limits = {})
      : harness(limits, ChatHarness::WithLink{}) {
    harness.link().go_up();
    clients = harness.connect_settled(count);
    harness.link().forget_published();
  }

  [[nodiscard]] FakeLink& link() { return harness.link(); }
  [[nodiscard]] Server& server() { return harness.server(); }
  ClientEnd& client(std::size_t index) { return *clients.at(index); }

  ChatHarness harness;
  std::vector<ClientEnd*> clients;
};

TEST(LinkedNodes, PublishesEachClientsArrival) {
  ChatHarness harness({}, ChatHarness::WithLink{});
  harness.link().go_up();
  harness.link().forget_published();
  (void)harness.connect_settled(2);
  const auto joins = harness.link().published(NodeMessageKind::join);
  ASSERT_EQ(joins.size(), 2U);
  EXPECT_EQ(joins[0].id, 1U);
  EXPECT_EQ(joins[0].room, "lobby");
  EXPECT_EQ(joins[0].name, "Client #a:1");
  EXPECT_EQ(joins[1].id, 2U);
  EXPECT_EQ(joins[1].name, "Client #a:2");
}

TEST(LinkedNodes, PublishesTheChatLinesOfOneReadInOneMessage) {
  LinkedServer linked(2);
  linked.client(0).send("hello\nworld\n");
  EXPECT_EQ(linked.client(1).next_lines(2),
            (Lines{"Client #a:1 says >> hello", "Client #a:1 says >> world"}));
  const auto chats = linked.link().published(NodeMessageKind::chat);
  ASSERT_EQ(chats.size(), 1U);
  EXPECT_EQ(chats[0].id, 1U);
  EXPECT_EQ(chats[0].room, "lobby");
  EXPECT_EQ(chats[0].name, "Client #a:1");
  EXPECT_EQ(chats[0].text, "hello\nworld");

  linked.client(1).send_line("one line");
  EXPECT_EQ(linked.client(0).next_line(), "Client #a:2 says >> one line");
  const auto more = linked.link().published(NodeMessageKind::chat);
  ASSERT_EQ(more.size(), 2U);
  EXPECT_EQ(more[1].id, 2U);
  EXPECT_EQ(more[1].text, "one line");
}

TEST(LinkedNodes, PublishesAnActionAndARename) {
  LinkedServer linked(2);
  linked.client(0).send_line("/me waves");
  EXPECT_EQ(linked.client(1).next_line(), "* Client #a:1 waves");
  const auto actions = linked.link().published(NodeMessageKind::action);
  ASSERT_EQ(actions.size(), 1U);
  EXPECT_EQ(actions[0].id, 1U);
  EXPECT_EQ(actions[0].room, "lobby");
  EXPECT_EQ(actions[0].name, "Client #a:1");
  EXPECT_EQ(actions[0].text, "waves");

  linked.client(0).send_line("/join dev");
  EXPECT_EQ(linked.client(0).next_line(), "*** You are now in dev (1 online).");
  linked.client(0).send_line("/nick Alice");
  ASSERT_TRUE(linked.harness.run_until([&] { return !linked.link().claims().empty(); }));
  EXPECT_EQ(linked.link().claims()[0].nickname, "alice");
  EXPECT_EQ(linked.link().claims()[0].owner, "a:1");
  ASSERT_TRUE(linked.link().answer_claim(true));
  EXPECT_EQ(linked.client(0).next_line(), "*** You are now known as Alice.");
  const auto renames = linked.link().published(NodeMessageKind::rename);
  ASSERT_EQ(renames.size(), 1U);
  EXPECT_EQ(renames[0].id, 1U);
  EXPECT_EQ(renames[0].room, "dev");
  EXPECT_EQ(renames[0].old_name, "Client #a:1");
  EXPECT_EQ(renames[0].name, "Alice");
}

TEST(LinkedNodes, RemoteArrivalsChatAndDeparturesReachLocalMembersWithCounts) {
  LinkedServer linked(2);
  linked.link().deliver(from_node_b(NodeMessageKind::join, 7, "lobby", "bob"));
  for (ClientEnd* client : linked.clients)
    EXPECT_EQ(client->next_line(), "*** bob joined (3 online)");
  EXPECT_EQ(linked.server().population(linked.server().rooms().lobby()), 3U);

  linked.link().deliver(from_node_b(NodeMessageKind::chat, 7, "lobby", "bob", "hi\nthere"));
  for (ClientEnd* client : linked.clients) {
    EXPECT_EQ(client->next_lines(2), (Lines{"bob says >> hi", "bob says >> there"}));
  }
  EXPECT_EQ(linked.server().relayed(), 2U);

  linked.link().deliver(from_node_b(NodeMessageKind::leave, 7, "lobby", "bob", "gotta go"));
  for (ClientEnd* client : linked.clients) {
    EXPECT_EQ(client->next_line(), "*** bob left (2 online): gotta go");
  }
  // Nobody here hears of a room nobody here is in.
  linked.link().deliver(from_node_b(NodeMessageKind::join, 8, "dev", "carol"));
  linked.link().deliver(from_node_b(NodeMessageKind::chat, 8, "dev", "carol", "hello dev"));
  EXPECT_EQ(linked.client(0).sync(), Lines{});
}

TEST(LinkedNodes, RemoteChatAndActionsCountAsRelayedOnlyWhereSomeoneHereGotThem) {
  LinkedServer linked(1);
  ClientEnd& here = linked.client(0);
  here.send_line("/join dev");
  EXPECT_EQ(here.next_line(), "*** You are now in dev (1 online).");
  // Nobody here is in the lobby, though the lobby is always open.
  linked.link().deliver(from_node_b(NodeMessageKind::chat, 7, "lobby", "bob", "hello?"));
  linked.link().deliver(from_node_b(NodeMessageKind::action, 7, "lobby", "bob", "waves"));
  EXPECT_EQ(linked.server().relayed(), 0U);

  linked.link().deliver(from_node_b(NodeMessageKind::chat, 8, "dev", "carol", "hi dev"));
  linked.link().deliver(from_node_b(NodeMessageKind::action, 8, "dev", "carol", "waves"));
  EXPECT_EQ(here.next_lines(2), (Lines{"carol says >> hi dev", "* carol waves"}));
  EXPECT_EQ(linked.server().relayed(), 2U);
}

TEST(LinkedNodes, AClientWithCompanyOnlyElsewhereIsNotAlone) {
  LinkedServer linked(1);
  // Until the others' rosters are in, nobody is told they are alone anyway.
  ASSERT_TRUE(
      linked.harness.run_until([&] { return !linked.server().other_nodes().are_catching_up(); }));
  linked.link().deliver(from_node_b(NodeMessageKind::join, 7, "lobby", "bob"));
  EXPECT_EQ(linked.client(0).next_line(), "*** bob joined (2 online)");
  linked.client(0).send_line("hello bob");
  EXPECT_EQ(linked.client(0).sync(), Lines{}) << "told it was alone";

  linked.link().deliver(from_node_b(NodeMessageKind::leave, 7, "lobby", "bob"));
  EXPECT_EQ(linked.client(0).next_line(), "*** bob left (1 online)");
  linked.client(0).send_line("bob?");
  EXPECT_EQ(linked.client(0).next_line(), "*** You are alone in the chat room.");
  // Passed on all the same: a client may have just joined elsewhere.
  const auto chats = linked.link().published(NodeMessageKind::chat);
  ASSERT_EQ(chats.size(), 2U);
  EXPECT_EQ(chats[0].text, "hello bob");
  EXPECT_EQ(chats[1].text, "bob?");
}

TEST(LinkedNodes, WhoAndRoomsIncludeRemoteMembers) {
  LinkedServer linked(2);
  linked.link().deliver(from_node_b(NodeMessageKind::join, 7, "lobby", "bob"));
  linked.link().deliver(from_node_b(NodeMessageKind::join, 8, "dev", "carol"));
  linked.client(0).send_line("/who");
  EXPECT_EQ(linked.client(0).sync(),
            (Lines{"*** bob joined (3 online)", "*** 3 online: Client #a:1, Client #a:2, bob"}));
  linked.client(1).send_line("/rooms");
  EXPECT_EQ(linked.client(1).sync(),
            (Lines{"*** bob joined (3 online)", "*** Rooms: lobby (3), dev (1)"}));
}

TEST(LinkedNodes, NickWaitsForTheClaimAndTheNextLineComesUnderTheNewName) {
  LinkedServer linked(2);
  ClientEnd& renamed = linked.client(0);
  ClientEnd& other = linked.client(1);
  renamed.send("/nick alice\nfirst line as alice\n");
  ASSERT_TRUE(linked.harness.run_until([&] { return !linked.link().claims().empty(); }));
  const Session* session = linked.harness.session_of(renamed);
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(session->connection().is_reading_paused());
  EXPECT_EQ(other.sync(), Lines{}) << "a line after /nick was handled before the answer";

  ASSERT_TRUE(linked.link().answer_claim(true));
  EXPECT_EQ(renamed.next_line(), "*** You are now known as alice.");
  EXPECT_EQ(other.next_lines(2),
            (Lines{"*** Client #a:1 is now known as alice", "alice says >> first line as alice"}));
  EXPECT_FALSE(session->connection().is_reading_paused());
}

TEST(LinkedNodes, ARefusedClaimRepliesTakenAndKeepsTheName) {
  LinkedServer linked(2);
  ClientEnd& refused = linked.client(0);
  refused.send_line("/nick alice");
  ASSERT_TRUE(linked.harness.run_until([&] { return !linked.link().claims().empty(); }));
  ASSERT_TRUE(linked.link().answer_claim(false));
  EXPECT_EQ(refused.next_line(), "*** Nickname alice is taken.");
  refused.send_line("still me");
  EXPECT_EQ(linked.client(1).next_line(), "Client #a:1 says >> still me");
  EXPECT_TRUE(linked.link().published(NodeMessageKind::rename).empty());
  EXPECT_EQ(linked.server().nicknames().holder("alice"), 0U);
}

TEST(LinkedNodes, ANicknameARemoteClientHoldsIsTakenWithoutAClaim) {
  LinkedServer linked(1);
  linked.link().deliver(from_node_b(NodeMessageKind::join, 7, "lobby", "bob"));
  EXPECT_EQ(linked.client(0).next_line(), "*** bob joined (2 online)");
  linked.client(0).send_line("/nick BOB");
  EXPECT_EQ(linked.client(0).next_line(), "*** Nickname BOB is taken.");
  EXPECT_TRUE(linked.link().claims().empty());
}

TEST(LinkedNodes, LinkLossIsToldOnceAndClaimsInFlightAreDecidedHere) {
  LinkedServer linked(2);
  ClientEnd& claimant = linked.client(0);
  ClientEnd& other = linked.client(1);
  linked.link().deliver(from_node_b(NodeMessageKind::join, 7, "lobby", "bob"));
  EXPECT_EQ(claimant.next_line(), "*** bob joined (3 online)");
  EXPECT_EQ(other.next_line(), "*** bob joined (3 online)");
  claimant.send_line("/nick alice");
  ASSERT_TRUE(linked.harness.run_until([&] { return !linked.link().claims().empty(); }));

  linked.link().go_down();
  EXPECT_EQ(claimant.next_lines(2), (Lines{"*** You are now known as alice.", kLinkLost}));
  EXPECT_EQ(other.next_lines(2), (Lines{"*** Client #a:1 is now known as alice", kLinkLost}));
  // The other nodes' clients are no longer counted; chat goes on here.
  claimant.send_line("/who");
  EXPECT_EQ(claimant.sync(), (Lines{"*** 2 online: alice, Client #a:2"}));
  claimant.send_line("still here");
  EXPECT_EQ(other.next_line(), "alice says >> still here");

  // Up and down again before the others' rosters were in: still the same outage.
  linked.link().go_up();
  linked.link().go_down();
  EXPECT_EQ(claimant.sync(), Lines{});
  EXPECT_EQ(other.sync(), Lines{});
}

TEST(LinkedNodes, AClientArrivingWhileTheLinkIsDownIsToldSo) {
  LinkedServer linked(1);
  linked.link().go_down();
  EXPECT_EQ(linked.client(0).next_line(), kLinkLost);
  ClientEnd& late = linked.harness.connect();
  EXPECT_EQ(late.next_lines(2),
            (Lines{"Welcome to the chat room! Your chat ID is: Client #a:2", kLinkLost}));
  EXPECT_EQ(linked.client(0).next_line(), "*** Client #a:2 joined (2 online)");
}

TEST(LinkedNodes, ANameTakenElsewhereDuringAnOutageIsLostWhenTheLinkIsBack) {
  LinkedServer linked(2);
  ClientEnd& alice = linked.client(0);
  ClientEnd& other = linked.client(1);
  alice.send_line("/nick alice");
  ASSERT_TRUE(linked.harness.run_until([&] { return !linked.link().claims().empty(); }));
  ASSERT_TRUE(linked.link().answer_claim(true));
  EXPECT_EQ(alice.next_line(), "*** You are now known as alice.");
  EXPECT_EQ(other.next_line(), "*** Client #a:1 is now known as alice");
  linked.link().go_down();
  EXPECT_EQ(alice.next_line(), kLinkLost);
  EXPECT_EQ(other.next_line(), kLinkLost);

  linked.link().forget_published();
  linked.link().go_up();
  ASSERT_EQ(linked.link().claims().size(), 1U);
  EXPECT_EQ(linked.link().claims()[0].nickname, "alice");
  ASSERT_TRUE(linked.link().answer_claim(false));
  EXPECT_EQ(alice.next_lines(2),
            (Lines{"*** Nickname alice is taken.", "*** You are now known as Client #a:1."}));
  EXPECT_EQ(other.next_line(), "*** alice is now known as Client #a:1");
  EXPECT_EQ(linked.server().nicknames().holder("alice"), 0U);
  const auto renames = linked.link().published(NodeMessageKind::rename);
  ASSERT_EQ(renames.size(), 1U);
  EXPECT_EQ(renames[0].old_name, "alice");
  EXPECT_EQ(renames[0].name, "Client #a:1");
}

TEST(LinkedNodes, LinkBackPublishesTheRosterAndTellsRestoredAfterTheSync) {
  LinkedServer linked(2);
  ClientEnd& alice = linked.client(0);
  ClientEnd& mover = linked.client(1);
  alice.send_line("/nick alice");
  ASSERT_TRUE(linked.harness.run_until([&] { return !linked.link().claims().empty(); }));
  ASSERT_TRUE(linked.link().answer_claim(true));
  EXPECT_EQ(alice.next_line(), "*** You are now known as alice.");
  mover.send_line("/join dev");
  EXPECT_EQ(mover.next_lines(2),
            (Lines{"*** Client #a:1 is now known as alice", "*** You are now in dev (1 online)."}));
  EXPECT_EQ(alice.next_line(), "*** Client #a:2 left (1 online)");
  linked.link().go_down();
  EXPECT_EQ(alice.next_line(), kLinkLost);
  EXPECT_EQ(mover.next_line(), kLinkLost);

  linked.link().forget_published();
  linked.link().go_up();
  EXPECT_TRUE(linked.server().other_nodes().are_catching_up());
  const auto rosters = linked.link().published(NodeMessageKind::roster);
  ASSERT_EQ(rosters.size(), 1U);
  EXPECT_EQ(rosters[0].target_instance, FakeLink::kInstance);
  std::set<std::tuple<std::uint64_t, std::string, std::string>> entries;
  for_each_roster_entry(rosters[0].text, [&entries](const RosterEntry& entry) {
    entries.emplace(entry.id, entry.room, entry.name);
  });
  EXPECT_EQ(entries, (std::set<std::tuple<std::uint64_t, std::string, std::string>>{
                         {1, "lobby", "alice"}, {2, "dev", "Client #a:2"}}));
  EXPECT_EQ(linked.link().published(NodeMessageKind::sync).size(), 1U);
  // This node's names are taken again.
  ASSERT_EQ(linked.link().claims().size(), 1U);
  EXPECT_EQ(linked.link().claims()[0].nickname, "alice");

  // Node b answers the sync with its roster: part of what is restored, not news.
  NodeMessage roster = from_node_b(NodeMessageKind::roster, 0, {}, {}, "7\tlobby\tbob\n");
  roster.target_instance = FakeLink::kInstance;
  linked.link().deliver(roster);
  EXPECT_EQ(alice.next_line(), kLinkRestored);
  EXPECT_FALSE(linked.server().other_nodes().are_catching_up());
  EXPECT_EQ(mover.next_line(), kLinkRestored);
  alice.send_line("/who");
  EXPECT_EQ(alice.sync(), (Lines{"*** 2 online: alice, bob"}));
}

TEST(LinkedNodes, AWhisperToARemoteClientIsPublishedOrRefusedWhileTheLinkIsBusy) {
  LinkedServer linked(1);
  ClientEnd& sender = linked.client(0);
  linked.link().deliver(from_node_b(NodeMessageKind::join, 7, "lobby", "bob"));
  EXPECT_EQ(sender.next_line(), "*** bob joined (2 online)");

  sender.send_line("/msg BOB psst");
  EXPECT_EQ(sender.next_line(), "*** Sent to bob.");
  sender.send_line("/msg #b:7 again");
  EXPECT_EQ(sender.next_line(), "*** Sent to bob.");
  const auto whispers = linked.link().published(NodeMessageKind::whisper);
  ASSERT_EQ(whispers.size(), 2U);
  EXPECT_EQ(whispers[0].id, 1U);
  EXPECT_EQ(whispers[0].name, "Client #a:1");
  EXPECT_EQ(whispers[0].target_node, "b");
  EXPECT_EQ(whispers[0].target_id, 7U);
  EXPECT_EQ(whispers[0].text, "psst");
  EXPECT_EQ(whispers[1].text, "again");
  EXPECT_EQ(linked.server().relayed(), 2U);

  linked.link().set_over_limit(true);
  sender.send_line("/msg bob are you there?");
  EXPECT_EQ(sender.next_line(),
            "*** Not sent to bob: the link to other servers is busy; try again.");
  EXPECT_EQ(linked.link().dropped(), 1U);
  EXPECT_EQ(linked.server().relayed(), 2U);

  sender.send_line("/msg #b:8 hello?");
  EXPECT_EQ(sender.next_line(), "*** No such user #b:8.");
}

TEST(LinkedNodes, ARemoteChatLineLongerThanMaxLineIsCut) {
  ServerLimits limits;
  limits.connection.max_line = 32;
  LinkedServer linked(1, limits);
  const std::string long_line(40, 'x');
  const std::string text = long_line + "\nshort";
  linked.link().deliver(from_node_b(NodeMessageKind::chat, 7, "lobby", "bob", text));
  EXPECT_EQ(linked.client(0).next_lines(2),
            (Lines{"bob says >> " + std::string(32, 'x'), "bob says >> short"}));
}

using Followed = std::set<std::string, std::less<>>;

// Whether `line` is among what the server sent the client before answering a sync: the
// commands sent before have been handled.
bool replied(ClientEnd* client, std::string_view line) {
  const Lines lines = client->sync();
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}
bool replied(ClientEnd& client, std::string_view line) { return replied(&client, line); }

TEST(LinkedNodesRouting, FollowsExactlyTheRoomsWithMembersHere) {
  ChatHarness harness({}, ChatHarness::WithLink{});
  // The lobby is open but empty: nothing of it is wanted yet.
  EXPECT_EQ(harness.link().followed(), Followed{});
  harness.link().go_up();
  auto clients = harness.connect_settled(2);
  EXPECT_EQ(harness.link().followed(), Followed{"lobby"});
  clients[0]->send("/join Dev\n");
  ASSERT_TRUE(replied(clients[0], "*** You are now in dev (1 online)."));
  EXPECT_EQ(harness.link().followed(), (Followed{"dev", "lobby"}));
  clients[1]->send("/join dev\n");
  ASSERT_TRUE(replied(clients[1], "*** You are now in dev (2 online)."));
  // The last one here left the lobby; others elsewhere may still be in it.
  EXPECT_EQ(harness.link().followed(), Followed{"dev"});
  clients[0]->send("/join ops\n");
  ASSERT_TRUE(replied(clients[0], "*** You are now in ops (1 online)."));
  EXPECT_EQ(harness.link().followed(), (Followed{"dev", "ops"}));
  clients[1]->send("/quit\n");
  ASSERT_TRUE(harness.run_until([&] { return harness.session_of(*clients[1]) == nullptr; }));
  EXPECT_EQ(harness.link().followed(), Followed{"ops"});
}

TEST(LinkedNodesRouting, AMoveFollowsTheNewRoomBeforeTheLeaveIsPublished) {
  LinkedServer linked(1);
  const std::size_t changes_before = linked.link().follow_log().size();
  linked.client(0).send("/join dev\n");
  ASSERT_TRUE(replied(linked.client(0), "*** You are now in dev (1 online)."));
  const auto& log = linked.link().follow_log();
  ASSERT_EQ(log.size(), changes_before + 2);
  EXPECT_EQ(log[changes_before], "+dev");
  EXPECT_EQ(log[changes_before + 1], "-lobby");
  // Both the leave and the arrival come after dev is followed: a link that holds what is
  // published until its subscriptions are in effect sends them together.
  const auto leaves = linked.link().published(NodeMessageKind::leave);
  const auto joins = linked.link().published(NodeMessageKind::join);
  ASSERT_EQ(leaves.size(), 1u);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(leaves[0].room, "lobby");
  EXPECT_GT(leaves[0].follow_changes_before, changes_before);
  EXPECT_EQ(joins[0].room, "dev");
  EXPECT_GT(joins[0].follow_changes_before, changes_before);
}

TEST(LinkedNodesRouting, RoomsAreFollowedWhileTheLinkIsDownToo) {
  LinkedServer linked(1);
  linked.link().go_down();
  linked.client(0).send("/join dev\n");
  ASSERT_TRUE(replied(linked.client(0), "*** You are now in dev (1 online)."));
  // The link keeps the wish and subscribes when it is back.
  EXPECT_EQ(linked.link().followed(), Followed{"dev"});
}

// The lines a client read, without the times of history lines ("[HH:MM:SS] ").
Lines without_times(const Lines& lines) {
  Lines plain;
  for (const std::string& line : lines) {
    plain.push_back(line.size() > 11 && line[0] == '[' && line[9] == ']' ? line.substr(11) : line);
  }
  return plain;
}

// 12:00:00 UTC on some day, in milliseconds.
constexpr std::uint64_t kNoon = 1'700'000'000'000 / 86'400'000 * 86'400'000 + 12 * 3'600'000;

TEST(LinkedNodesHistory, AClientEnteringARoomThatCatchesUpReadsItsHistoryWhenItIsIn) {
  LinkedServer linked(2);
  ASSERT_NE(linked.link().history_lines(), 0u);
  linked.client(0).send_line("/join dev");
  // Nothing of the history yet: this node has just begun to receive dev.
  EXPECT_EQ(linked.client(0).sync(), Lines{"*** You are now in dev (1 online)."});
  ASSERT_TRUE(linked.link().is_catching_up("dev"));
  linked.client(0).send_line("said while catching up");
  linked.client(1).send_line("/join dev");
  EXPECT_EQ(linked.client(1).sync(),
            (Lines{"*** Client #a:1 left (1 online)", "*** You are now in dev (2 online)."}));
  const std::vector<RecordedLine> recorded = {
      {kNoon, NodeMessageKind::chat, "bob", "one\ntwo"},
      {kNoon + 1000, NodeMessageKind::action, "bob", "waves"}};
  linked.link().deliver_history("dev", recorded);
  // The first heard its own line live; the second entered after it was said.
  EXPECT_EQ(
      linked.client(0).sync(),
      (Lines{"*** Client #a:2 joined (2 online)", "*** History:", "[12:00:00] bob says >> one",
             "[12:00:00] bob says >> two", "[12:00:01] * bob waves", "*** End of history."}));
  EXPECT_EQ(without_times(linked.client(1).sync()),
            (Lines{"*** History:", "bob says >> one", "bob says >> two", "* bob waves",
                   "Client #a:1 says >> said while catching up", "*** End of history."}));
  // Later joiners read the same, from memory.
  ClientEnd& late = linked.harness.connect();
  (void)late.sync();
  late.send_line("/join dev");
  EXPECT_EQ(without_times(late.sync()),
            (Lines{"*** You are now in dev (3 online).", "*** History:", "bob says >> one",
                   "bob says >> two", "* bob waves", "Client #a:1 says >> said while catching up",
                   "*** End of history."}));
}

TEST(LinkedNodesHistory, WhatThisNodeKeptIsReadMarkedWhenTheHistoryCannotBeHad) {
  LinkedServer linked(1);
  linked.client(0).send_line("/join dev");
  (void)linked.client(0).sync();
  linked.client(0).send_line("/join lobby");
  (void)linked.client(0).sync();
  linked.client(0).send_line("in the lobby");
  ClientEnd& joiner = linked.harness.connect();
  (void)joiner.sync();
  joiner.send_line("/join dev");
  (void)joiner.sync();
  linked.link().deliver_history("dev", {}, false);
  EXPECT_EQ(joiner.sync(), Lines{}) << "dev has no lines here";
  // A room whose history this node kept: read with the mark when Redis refuses.
  ClientEnd& second = linked.harness.connect();
  (void)second.sync();
  linked.link().go_down();
  EXPECT_EQ(without_times(second.sync()).back(),
            "*** Link to other servers lost; chatting locally.");
  second.send_line("/join dev");
  second.send_line("/join lobby");
  EXPECT_EQ(without_times(second.sync()),
            (Lines{"*** You are now in dev (2 online).", "*** You are now in lobby (2 online).",
                   "*** History:", "Client #a:1 says >> in the lobby", "*** End of history.",
                   "*** History of this server only: the link to other servers is down."}));
}

TEST(LinkedNodesHistory, ClientsWaitingWhenTheLinkGoesDownReadWhatThisNodeHas) {
  LinkedServer linked(1);
  linked.client(0).send_line("/join dev");
  (void)linked.client(0).sync();
  ASSERT_TRUE(linked.link().is_catching_up("dev"));
  ClientEnd& second = linked.harness.connect();
  (void)second.sync();
  linked.client(0).send_line("before you came");
  second.send_line("/join dev");
  (void)second.sync();
  linked.link().go_down();
  EXPECT_EQ(without_times(second.sync()),
            (Lines{"*** History:", "Client #a:1 says >> before you came", "*** End of history.",
                   "*** History of this server only: the link to other servers is down.",
                   "*** Link to other servers lost; chatting locally."}));
}

TEST(LinkedNodesHistory, AClientThatLeavesAndComesBackWhileARoomCatchesUpReadsItOnce) {
  LinkedServer linked(1);
  ClientEnd& client = linked.client(0);
  for (int visit = 0; visit < 3; ++visit) {
    client.send_line("/join dev");
    client.send_line("/join lobby");
  }
  client.send_line("/join dev");
  (void)client.sync();
  ASSERT_TRUE(linked.link().is_catching_up("dev"));
  linked.link().deliver_history("dev", {{kNoon, NodeMessageKind::chat, "bob", "once"}});
  EXPECT_EQ(client.sync(),
            (Lines{"*** History:", "[12:00:00] bob says >> once", "*** End of history."}));
}

}  // namespace
}  // namespace epollchat::chat
