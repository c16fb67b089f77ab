// The node messages' text form: every kind survives encode and decode, and anything that does not
// decode to valid fields (instance, node, ids, rooms, names, the last field) is refused whole.
#include "cluster/message_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epollchat::cluster {
namespace {

using chat::append_roster_entry;
using chat::for_each_roster_entry;
using chat::is_valid_remote_name;
using chat::NodeMessage;
using chat::NodeMessageKind;
using chat::RosterEntry;

constexpr std::string_view kInstance = "0123456789abcdef";
constexpr std::string_view kOtherInstance = "fedcba9876543210";
constexpr std::string_view kNode = "b7";

NodeMessage message_of(NodeMessageKind kind) {
  NodeMessage message = node_message(kind);
  message.instance = kInstance;
  message.node = kNode;
  return message;
}

// A message of `kind` about client `id` of kNode, in `room`, known as `name`.
NodeMessage client_message(NodeMessageKind kind, std::uint64_t id, std::string_view room,
                           std::string_view name) {
  NodeMessage message = message_of(kind);
  message.id = id;
  message.room = room;
  message.name = name;
  return message;
}

// Field by field, so a failure names the field that differs.
void expect_same_fields(const NodeMessage& got, const NodeMessage& want) {
  EXPECT_EQ(static_cast<char>(got.kind), static_cast<char>(want.kind));
  EXPECT_EQ(got.instance, want.instance);
  EXPECT_EQ(got.node, want.node);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.room, want.room);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.old_name, want.old_name);
  EXPECT_EQ(got.target_node, want.target_node);
  EXPECT_EQ(got.target_id, want.target_id);
  EXPECT_EQ(got.target_instance, want.target_instance);
  EXPECT_EQ(got.text, want.text);
}

// Encodes, decodes, and checks that the fields came back; returns the payload.
std::string expect_round_trip(const NodeMessage& message) {
  const std::string payload = encode_node_message(message);
  const auto decoded = decode_node_message(payload);
  EXPECT_TRUE(decoded.has_value()) << "refused: " << payload;
  if (decoded) expect_same_fields(*decoded, message);
  return payload;
}

bool decodes(std::string_view payload) { return decode_node_message(payload).has_value(); }

// A payload of `kind` from kNode/kInstance with the given field lines after the header.
std::string payload_of(char kind, std::string_view fields) {
  std::string payload = "2 ";
  payload.push_back(kind);
  payload.append(" ").append(kInstance).append(" ").append(kNode);
  if (!fields.empty()) payload.append("\n").append(fields);
  return payload;
}

TEST(NodeMessage, FieldlessKindsRoundTrip) {
  for (const auto kind : {NodeMessageKind::beat, NodeMessageKind::sync, NodeMessageKind::bye}) {
    const std::string payload = expect_round_trip(message_of(kind));
    EXPECT_EQ(payload, "2 " + std::string(1, static_cast<char>(kind)) + " 0123456789abcdef b7");
  }
}

TEST(NodeMessage, JoinRoundTrips) {
  const auto joined = client_message(NodeMessageKind::join, 12, "lobby", "Client #b7:12");
  EXPECT_EQ(expect_round_trip(joined), "2 J 0123456789abcdef b7\n12\nlobby\nClient #b7:12");
  expect_round_trip(client_message(NodeMessageKind::join, 12, "dev_team-2", "alice"));
}

TEST(NodeMessage, LeaveRoundTripsWithAndWithoutReason) {
  NodeMessage left = client_message(NodeMessageKind::leave, 3, "dev", "bob");
  EXPECT_EQ(expect_round_trip(left), "2 L 0123456789abcdef b7\n3\ndev\nbob\n");
  left.text = "gone fishing";
  expect_round_trip(left);
}

TEST(NodeMessage, RenameRoundTrips) {
  NodeMessage renamed = client_message(NodeMessageKind::rename, 7, "lobby", "carol");
  renamed.old_name = "Client #b7:7";
  expect_round_trip(renamed);
  renamed.old_name = "carol";
  renamed.name = "Carol_2";
  expect_round_trip(renamed);
}

TEST(NodeMessage, ChatAndActionRoundTripWithSeveralLines) {
  for (const auto kind : {NodeMessageKind::chat, NodeMessageKind::action}) {
    NodeMessage said =
        client_message(kind, 18446744073709551615u, "lobby", "Client #b7:18446744073709551615");
    said.text = "hello";
    expect_round_trip(said);
    // Several chat lines travel as one message; tabs and other bytes pass as they are
    // (they are sanitized where they are shown).
    said.text = "one\ntwo\tcols\nthree \x1b[1m";
    expect_round_trip(said);
  }
}

TEST(NodeMessage, WhisperRoundTrips) {
  NodeMessage whispered = message_of(NodeMessageKind::whisper);
  whispered.id = 4;
  whispered.name = "dave";
  whispered.target_node = "a1";
  whispered.target_id = 99;
  whispered.text = "psst";
  EXPECT_EQ(expect_round_trip(whispered), "2 W 0123456789abcdef b7\n4\ndave\na1\n99\npsst");
  whispered.name = "Client #b7:4";
  whispered.target_node = "b7";
  expect_round_trip(whispered);
}

TEST(NodeMessage, RosterRoundTrips) {
  NodeMessage roster = message_of(NodeMessageKind::roster);
  roster.target_instance = kOtherInstance;
  // A node without clients sends an empty roster.
  EXPECT_EQ(expect_round_trip(roster), "2 R 0123456789abcdef b7\nfedcba9876543210\n");
  std::string entries;
  append_roster_entry(entries, {1, "lobby", "Client #b7:1"});
  append_roster_entry(entries, {2, "dev", "erin"});
  roster.text = entries;
  expect_round_trip(roster);
}

TEST(NodeMessage, DecodedViewsPointIntoThePayload) {
  const std::string payload = payload_of('C', "5\nlobby\nfrank\nhi");
  const auto decoded = decode_node_message(payload);
  ASSERT_TRUE(decoded);
  const auto inside = [&payload](std::string_view part) {
    return part.data() >= payload.data() &&
           part.data() + part.size() <= payload.data() + payload.size();
  };
  EXPECT_TRUE(inside(decoded->instance));
  EXPECT_TRUE(inside(decoded->node));
  EXPECT_TRUE(inside(decoded->room));
  EXPECT_TRUE(inside(decoded->name));
  EXPECT_TRUE(inside(decoded->text));
}

TEST(NodeMessage, RefusesBadHeaders) {
  EXPECT_TRUE(decodes("2 B 0123456789abcdef b7"));
  const std::vector<std::string> bad = {
      "",
      "2",
      "2 B",
      "2 B ",
      "2 Q 0123456789abcdef b7",         // unknown kind
      "2 b 0123456789abcdef b7",         // kinds are upper case
      "2 BB 0123456789abcdef b7",        // no space after the kind
      "2 B  0123456789abcdef b7",        // two spaces
      "2  B 0123456789abcdef b7",        // two spaces after the format
      "2 B 0123456789abcdef",            // no node
      "2 B 0123456789abcdef ",           // empty node
      "2 B 0123456789abcdef b7 ",        // trailing space
      "2 B 0123456789abcdef\tb7",        // TAB is not the separator
      "2 B 0123456789abcdef b7\r",       // CR is part of the node id
      "2 B 0123456789abcdef b7\nextra",  // a beat has no fields
      "B 0123456789abcdef b7",           // format 1
      "3 B 0123456789abcdef b7",         // a later format
      "02 B 0123456789abcdef b7",
  };
  for (const std::string& payload : bad) {
    EXPECT_FALSE(decodes(payload)) << payload;
  }
}

TEST(NodeMessage, RefusesBadInstanceTokens) {
  for (const std::string instance : {
           "0123456789abcde",    // 15 digits
           "0123456789abcdef0",  // 17 digits
           "0123456789ABCDEF",   // upper case
           "0123456789abcdeg",   // not hex
           "",
       }) {
    EXPECT_FALSE(decodes("2 B " + instance + " b7")) << instance;
  }
  // The roster's target instance is checked the same way.
  EXPECT_TRUE(decodes(payload_of('R', "fedcba9876543210\n")));
  EXPECT_FALSE(decodes(payload_of('R', "FEDCBA9876543210\n")));
  EXPECT_FALSE(decodes(payload_of('R', "fedcba987654321\n")));
  EXPECT_FALSE(decodes(payload_of('R', "\n")));
}

TEST(NodeMessage, RefusesBadNodeIds) {
  EXPECT_TRUE(decodes("2 B 0123456789abcdef abcdefgh"));
  EXPECT_TRUE(decodes("2 B 0123456789abcdef 0"));
  for (const std::string node : {"B7", "abcdefghi", "b-7", "b_7", "b:7", "b 7", "\xc3\xa9"}) {
    EXPECT_FALSE(decodes("2 B 0123456789abcdef " + node)) << node;
  }
  // A whisper's target node too.
  EXPECT_TRUE(decodes(payload_of('W', "4\ndave\na1\n99\npsst")));
  EXPECT_FALSE(decodes(payload_of('W', "4\ndave\nA1\n99\npsst")));
  EXPECT_FALSE(decodes(payload_of('W', "4\ndave\n\n99\npsst")));
  EXPECT_FALSE(decodes(payload_of('W', "4\ndave\nabcdefghi\n99\npsst")));
}

TEST(NodeMessage, RefusesRoomsNotInLowerCaseOrInvalid) {
  EXPECT_TRUE(decodes(payload_of('J', "5\ndev\nfrank")));
  for (const std::string& room :
       std::vector<std::string>{"Dev", "LOBBY", "", "a b", "dev!", std::string(33, 'a')}) {
    EXPECT_FALSE(decodes(payload_of('J', "5\n" + room + "\nfrank"))) << room;
    EXPECT_FALSE(decodes(payload_of('L', "5\n" + room + "\nfrank\n"))) << room;
    EXPECT_FALSE(decodes(payload_of('C', "5\n" + room + "\nfrank\nhi"))) << room;
    EXPECT_FALSE(decodes(payload_of('A', "5\n" + room + "\nfrank\nwaves"))) << room;
    EXPECT_FALSE(decodes(payload_of('N', "5\n" + room + "\nfrank\ngina"))) << room;
  }
  EXPECT_TRUE(decodes(payload_of('J', "5\n" + std::string(32, 'a') + "\nfrank")));
}

TEST(NodeMessage, NamesMustBeANicknameOrThatClientsOwnId) {
  EXPECT_TRUE(decodes(payload_of('J', "12\nlobby\nClient #b7:12")));
  EXPECT_TRUE(decodes(payload_of('J', "12\nlobby\nhank")));
  for (const std::string& name : std::vector<std::string>{
           "Client #b7:13",  // another client of the node
           "Client #a1:12",  // a client of another node
           "Client #12",     // without the node
           "Client #b7:012",
           "client #b7:12",
           "Client7",  // reserved, not a nickname
           "two words",
           std::string(25, 'x'),
           "",
           "a\tb",
       }) {
    EXPECT_FALSE(decodes(payload_of('J', "12\nlobby\n" + name))) << name;
    EXPECT_FALSE(decodes(payload_of('L', "12\nlobby\n" + name + "\n"))) << name;
    EXPECT_FALSE(decodes(payload_of('C', "12\nlobby\n" + name + "\nhi"))) << name;
    EXPECT_FALSE(decodes(payload_of('A', "12\nlobby\n" + name + "\nwaves"))) << name;
    EXPECT_FALSE(decodes(payload_of('W', "12\n" + name + "\na1\n3\npsst"))) << name;
    EXPECT_FALSE(decodes(payload_of('N', "12\nlobby\n" + name + "\nhank"))) << name;
    EXPECT_FALSE(decodes(payload_of('N', "12\nlobby\nhank\n" + name))) << name;
  }
}

TEST(NodeMessage, RefusesMissingFieldsAndBadNumbers) {
  const std::vector<std::string> bad = {
      payload_of('J', ""),
      payload_of('J', "12"),
      payload_of('J', "12\nlobby"),
      payload_of('J', "\nlobby\nhank"),
      payload_of('J', "x\nlobby\nhank"),
      payload_of('J', "-1\nlobby\nhank"),
      payload_of('J', "+1\nlobby\nhank"),
      payload_of('J', " 1\nlobby\nhank"),
      payload_of('J', "18446744073709551616\nlobby\nhank"),  // 2^64
      payload_of('L', "12\nlobby\nhank"),                    // no reason field at all
      payload_of('C', "12\nlobby\nhank"),
      payload_of('A', "12\nlobby"),
      payload_of('N', "12\nlobby\nhank"),
      payload_of('N', "12\nlobby"),
      payload_of('W', "12\nhank\na1\npsst"),
      payload_of('W', "12\nhank\na1"),
      payload_of('W', "12\nhank\na1\nx\npsst"),
      payload_of('R', ""),
      payload_of('R', "fedcba9876543210"),  // no LF after the target
  };
  for (const std::string& payload : bad) {
    EXPECT_FALSE(decodes(payload)) << payload;
  }
}

TEST(NodeMessage, RefusesEmptyText) {
  EXPECT_FALSE(decodes(payload_of('C', "12\nlobby\nhank\n")));
  EXPECT_FALSE(decodes(payload_of('A', "12\nlobby\nhank\n")));
  EXPECT_FALSE(decodes(payload_of('W', "12\nhank\na1\n3\n")));
  // An empty reason is a plain leave.
  EXPECT_TRUE(decodes(payload_of('L', "12\nlobby\nhank\n")));
}

TEST(NodeMessage, RefusesBadRosterEntries) {
  const auto roster = [](std::string_view entries) {
    return payload_of('R', "fedcba9876543210\n" + std::string(entries));
  };
  EXPECT_TRUE(decodes(roster("1\tlobby\tClient #b7:1\n2\tdev\tivan")));
  for (const std::string entries : {
           "1\tlobby",                      // no name
           "1",                             // nothing but the id
           "x\tlobby\tivan",                // id not a number
           "\tlobby\tivan",                 // empty id
           "1\tLobby\tivan",                // room not in lower case
           "1\t\tivan",                     // empty room
           "1\tlobby\t",                    // empty name
           "1\tlobby\tiv\tan",              // a TAB in the name
           "1\tlobby\tClient #b7:2",        // another client's id
           "1\tlobby\tClient #a1:1",        // another node's client
           "1\tlobby\tivan\n\n2\tdev\tjo",  // an empty line between entries
           "1\tlobby\tivan\n2\tdev",        // a good entry, then a bad one
       }) {
    EXPECT_FALSE(decodes(roster(entries))) << entries;
  }
}

TEST(RosterEntry, AppendsAndIteratesInOrder) {
  std::string entries;
  append_roster_entry(entries, {1, "lobby", "Client #b7:1"});
  EXPECT_EQ(entries, "1\tlobby\tClient #b7:1");
  append_roster_entry(entries, {22, "dev", "judy"});
  append_roster_entry(entries, {18446744073709551615u, "a-b_c", "kim"});
  EXPECT_EQ(entries, "1\tlobby\tClient #b7:1\n22\tdev\tjudy\n18446744073709551615\ta-b_c\tkim");

  struct Seen {
    std::uint64_t id;
    std::string room;
    std::string name;
    bool operator==(const Seen&) const = default;
  };
  std::vector<Seen> seen;
  for_each_roster_entry(entries, [&seen](const RosterEntry& entry) {
    seen.push_back({entry.id, std::string(entry.room), std::string(entry.name)});
  });
  const std::vector<Seen> expected = {
      {1, "lobby", "Client #b7:1"}, {22, "dev", "judy"}, {18446744073709551615u, "a-b_c", "kim"}};
  EXPECT_EQ(seen, expected);
}

TEST(RosterEntry, EmptyRosterHasNoEntries) {
  int calls = 0;
  for_each_roster_entry("", [&calls](const RosterEntry&) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(RosterEntry, DecodedRosterIteratesLikeItWasBuilt) {
  std::string entries;
  append_roster_entry(entries, {3, "lobby", "Client #b7:3"});
  append_roster_entry(entries, {4, "ops", "leo"});
  NodeMessage roster = message_of(NodeMessageKind::roster);
  roster.target_instance = kOtherInstance;
  roster.text = entries;
  const std::string payload = encode_node_message(roster);
  const auto decoded = decode_node_message(payload);
  ASSERT_TRUE(decoded);
  std::vector<std::string> seen;
  for_each_roster_entry(decoded->text, [&seen](const RosterEntry& entry) {
    seen.push_back(std::to_string(entry.id) + "|" + std::string(entry.room) + "|" +
                   std::string(entry.name));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"3|lobby|Client #b7:3", "4|ops|leo"}));
}

TEST(RemoteName, NicknameOrTheClientsOwnId) {
  EXPECT_TRUE(is_valid_remote_name("mia", "b7", 1));
  EXPECT_TRUE(is_valid_remote_name("Client #b7:1", "b7", 1));
  EXPECT_FALSE(is_valid_remote_name("Client #b7:1", "b7", 2));
  EXPECT_FALSE(is_valid_remote_name("Client #b7:1", "b8", 1));
  EXPECT_FALSE(is_valid_remote_name("Client #1", "b7", 1));
  EXPECT_FALSE(is_valid_remote_name("ClientX", "b7", 1));
  EXPECT_FALSE(is_valid_remote_name("", "b7", 1));
  EXPECT_FALSE(is_valid_remote_name("mia!", "b7", 1));
}

TEST(LinkHeader, TellsTheFormatAndNodeOfAnyVersion) {
  const auto current = read_link_header("2 C 0123456789abcdef b7\n1\nlobby\nann\nhi");
  ASSERT_TRUE(current);
  EXPECT_EQ(current->format, kLinkFormat);
  EXPECT_EQ(current->node, "b7");
  // Format 1 had no number.
  const auto first = read_link_header("B 0123456789abcdef n9");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->format, 1u);
  EXPECT_EQ(first->node, "n9");
  const auto later = read_link_header("3 B 0123456789abcdef n8\nwhatever comes");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->format, 3u);
  EXPECT_EQ(later->node, "n8");
  for (const std::string_view unreadable : {"", "B", "B 0123456789abcdef", "B 0123456789abcdef N9",
                                            "99999999999 B x n1", "3x B 0123456789abcdef n8"}) {
    EXPECT_FALSE(read_link_header(unreadable)) << unreadable;
  }
}

TEST(NodeMessage, HistoryRoundTripsAndSplitsIntoEntries) {
  const std::string first = "2 C 0123456789abcdef b7\n4\ndev\nbob\nhi\nthere";
  const std::string second = "2 A 0123456789abcdef c1\n9\ndev\ncarol\nwaves";
  NodeMessage history = message_of(NodeMessageKind::history);
  history.id = 3;
  history.room = "dev";
  const std::string entries = "1700000000123 " + std::to_string(first.size()) + "\n" + first +
                              "1700000001000 " + std::to_string(second.size()) + "\n" + second;
  history.text = entries;
  expect_round_trip(history);
  std::vector<std::pair<std::uint64_t, std::string>> split;
  EXPECT_TRUE(chat::for_each_history_entry(entries, [&split](const chat::HistoryEntry& entry) {
    split.emplace_back(entry.milliseconds, std::string(entry.message));
  }));
  EXPECT_EQ(split, (std::vector<std::pair<std::uint64_t, std::string>>{{1700000000123u, first},
                                                                       {1700000001000u, second}}));
  // No entries: a room nobody spoke in.
  history.text = "";
  EXPECT_EQ(expect_round_trip(history), "2 H 0123456789abcdef b7\n3\ndev\n");
  // An entry longer than what follows, or without its head, is refused whole.
  EXPECT_FALSE(decodes(payload_of('H', "3\ndev\n1 99\nshort")));
  EXPECT_FALSE(decodes(payload_of('H', "3\ndev\n1\nx")));
  EXPECT_FALSE(decodes(payload_of('H', "3\ndev\nx 1\nx")));
  EXPECT_FALSE(decodes(payload_of('H', "3\nDev\n")));
}

}  // namespace
}  // namespace epollchat::cluster
