// RemoteDirectory: remote clients per node, room counts that follow them, and the
// departures it reports when a node restarts, goes quiet or says goodbye.
#include "chat/remote_directory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::chat {
namespace {

// A reading of the clock, `ns` nanoseconds after its epoch.
constexpr CoarseTime at(std::int64_t ns) { return CoarseTime(std::chrono::nanoseconds(ns)); }

constexpr std::string_view kFirstInstance = "0123456789abcdef";
constexpr std::string_view kSecondInstance = "fedcba9876543210";

// "node:id room name" per departure, sorted, so tests compare the set of departures.
std::vector<std::string> describe(const std::vector<RemoteDirectory::Departure>& departed) {
  std::vector<std::string> described;
  for (const auto& departure : departed) {
    described.push_back(departure.node + ":" + std::to_string(departure.id) + " " +
                        departure.client.room + " " + departure.client.name);
  }
  std::sort(described.begin(), described.end());
  return described;
}

std::vector<std::string> names_in(const RemoteDirectory& directory, std::string_view room) {
  const auto views = directory.names_in(room);
  return {views.begin(), views.end()};
}

// Sets each client, written as describe() writes a departure: "b7:1 lobby alice", the name
// being the rest of the text. Their nodes must have been heard from.
void set_clients(RemoteDirectory& directory, std::initializer_list<std::string_view> clients) {
  for (const std::string_view client : clients) {
    const auto colon = client.find(':');
    const auto id_end = client.find(' ', colon);
    const auto room_end = client.find(' ', id_end + 1);
    ASSERT_NE(room_end, std::string_view::npos) << client;
    std::uint64_t id = 0;
    const auto parsed = std::from_chars(client.data() + colon + 1, client.data() + id_end, id);
    ASSERT_EQ(parsed.ptr, client.data() + id_end) << client;
    directory.set(client.substr(0, colon), id, client.substr(id_end + 1, room_end - id_end - 1),
                  client.substr(room_end + 1));
  }
}

// A directory that has heard from every node named in `clients` (as kFirstInstance, at time
// 100, in the order they are first named) and then set those clients.
RemoteDirectory directory_holding(std::initializer_list<std::string_view> clients) {
  RemoteDirectory directory;
  for (const std::string_view client : clients) {
    const std::string_view node = client.substr(0, client.find(':'));
    if (!directory.nodes().contains(node)) directory.heard_from(node, kFirstInstance, at(100));
  }
  set_clients(directory, clients);
  return directory;
}

TEST(RemoteDirectory, StartsEmpty) {
  const RemoteDirectory directory;
  EXPECT_EQ(directory.node_count(), 0u);
  EXPECT_EQ(directory.count("lobby"), 0u);
  EXPECT_TRUE(directory.room_counts().empty());
  EXPECT_TRUE(directory.names_in("lobby").empty());
  EXPECT_EQ(directory.find("b7", 1), nullptr);
  EXPECT_FALSE(directory.find_by_name("alice"));
}

TEST(RemoteDirectory, SetFindAndRemove) {
  RemoteDirectory directory;
  EXPECT_TRUE(directory.heard_from("b7", kFirstInstance, at(100)).empty());
  const RemoteClient* added = directory.set("b7", 1, "lobby", "Client #b7:1");
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->name, "Client #b7:1");
  EXPECT_EQ(added->room, "lobby");

  const RemoteClient* found = directory.find("b7", 1);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "Client #b7:1");
  EXPECT_EQ(found->room, "lobby");
  EXPECT_EQ(directory.find("b7", 2), nullptr);
  EXPECT_EQ(directory.find("a1", 1), nullptr);

  // An update (a rename) keeps the entry and its room.
  directory.set("b7", 1, "lobby", "alice");
  EXPECT_EQ(directory.find("b7", 1), found);
  EXPECT_EQ(found->name, "alice");
  EXPECT_EQ(directory.count("lobby"), 1u);

  EXPECT_FALSE(directory.remove("b7", 2));
  EXPECT_FALSE(directory.remove("a1", 1));
  const auto removed = directory.remove("b7", 1);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->name, "alice");
  EXPECT_EQ(removed->room, "lobby");
  EXPECT_EQ(directory.find("b7", 1), nullptr);
  EXPECT_EQ(directory.count("lobby"), 0u);
  EXPECT_TRUE(directory.room_counts().empty());
  EXPECT_FALSE(directory.remove("b7", 1));
  // The node itself stays known: it is still alive, just without clients.
  EXPECT_EQ(directory.node_count(), 1u);
}

TEST(RemoteDirectory, RoomCountsFollowClientsAsTheyMove) {
  RemoteDirectory directory;
  directory.heard_from("b7", kFirstInstance, at(100));
  directory.heard_from("a1", kSecondInstance, at(100));
  set_clients(directory,
              {"b7:1 lobby Client #b7:1", "b7:2 lobby Client #b7:2", "a1:1 lobby Client #a1:1"});
  EXPECT_EQ(directory.count("lobby"), 3u);
  EXPECT_EQ(directory.count("dev"), 0u);

  directory.set("b7", 2, "dev", "Client #b7:2");
  EXPECT_EQ(directory.count("lobby"), 2u);
  EXPECT_EQ(directory.count("dev"), 1u);
  directory.set("a1", 1, "dev", "Client #a1:1");
  EXPECT_EQ(directory.count("lobby"), 1u);
  EXPECT_EQ(directory.count("dev"), 2u);
  // Setting the same room again (e.g. a rename) counts nothing twice.
  directory.set("a1", 1, "dev", "bob");
  EXPECT_EQ(directory.count("dev"), 2u);

  directory.set("b7", 1, "ops", "Client #b7:1");
  EXPECT_EQ(directory.count("lobby"), 0u);
  // Rooms without remote clients leave the map instead of staying at zero.
  const auto& counts = directory.room_counts();
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.count("lobby"), 0u);
  EXPECT_EQ(counts.at("dev"), 2u);
  EXPECT_EQ(counts.at("ops"), 1u);

  directory.remove("b7", 2);
  EXPECT_EQ(directory.count("dev"), 1u);
  directory.remove("a1", 1);
  EXPECT_EQ(directory.count("dev"), 0u);
  EXPECT_EQ(directory.room_counts().size(), 1u);
}

TEST(RemoteDirectory, SameInstanceIsNoDeparture) {
  RemoteDirectory directory = directory_holding({"b7:1 lobby alice"});
  EXPECT_TRUE(directory.heard_from("b7", kFirstInstance, at(200)).empty());
  EXPECT_NE(directory.find("b7", 1), nullptr);
  EXPECT_EQ(directory.nodes().at("b7").last_heard, at(200));
}

TEST(RemoteDirectory, NewInstanceReturnsOldClientsAsDepartures) {
  RemoteDirectory directory =
      directory_holding({"b7:1 lobby alice", "b7:2 dev Client #b7:2", "a1:5 dev carol"});

  // b7 restarted: a new process under the same node id.
  const auto departed = directory.heard_from("b7", kSecondInstance, at(300));
  EXPECT_EQ(describe(departed),
            (std::vector<std::string>{"b7:1 lobby alice", "b7:2 dev Client #b7:2"}));
  EXPECT_EQ(directory.find("b7", 1), nullptr);
  EXPECT_EQ(directory.find("b7", 2), nullptr);
  EXPECT_EQ(directory.count("lobby"), 0u);
  EXPECT_EQ(directory.count("dev"), 1u);
  EXPECT_NE(directory.find("a1", 5), nullptr);
  EXPECT_EQ(directory.node_count(), 2u);
  EXPECT_EQ(directory.nodes().at("b7").instance, kSecondInstance);
  EXPECT_EQ(directory.nodes().at("b7").last_heard, at(300));

  // The new instance's clients are counted from scratch, and it is not "restarted" again.
  directory.set("b7", 1, "lobby", "Client #b7:1");
  EXPECT_TRUE(directory.heard_from("b7", kSecondInstance, at(400)).empty());
  EXPECT_EQ(directory.count("lobby"), 1u);
}

TEST(RemoteDirectory, ExpireRemovesQuietNodesWithTheirClients) {
  RemoteDirectory directory;
  directory.heard_from("b7", kFirstInstance, at(1000));
  directory.heard_from("a1", kSecondInstance, at(5000));
  directory.heard_from("c3", kSecondInstance, at(2000));
  set_clients(directory, {"b7:1 lobby alice", "b7:2 dev bob", "a1:1 lobby carol", "c3:9 dev dave"});

  EXPECT_TRUE(directory.expire(at(1000)).empty());  // heard at exactly the limit: still alive
  EXPECT_EQ(directory.node_count(), 3u);

  const auto departed = directory.expire(at(3000));
  EXPECT_EQ(describe(departed),
            (std::vector<std::string>{"b7:1 lobby alice", "b7:2 dev bob", "c3:9 dev dave"}));
  EXPECT_EQ(directory.node_count(), 1u);
  EXPECT_EQ(directory.nodes().count("b7"), 0u);
  EXPECT_EQ(directory.nodes().count("c3"), 0u);
  EXPECT_EQ(directory.count("lobby"), 1u);
  EXPECT_EQ(directory.count("dev"), 0u);
  EXPECT_EQ(names_in(directory, "lobby"), std::vector<std::string>{"carol"});

  // A node heard from again after it expired starts fresh.
  EXPECT_TRUE(directory.heard_from("b7", kFirstInstance, at(6000)).empty());
  EXPECT_EQ(directory.find("b7", 1), nullptr);
}

TEST(RemoteDirectory, RemoveNodeReturnsItsClients) {
  RemoteDirectory directory =
      directory_holding({"b7:3 lobby erin", "b7:4 ops Client #b7:4", "a1:3 ops frank"});

  EXPECT_EQ(describe(directory.remove_node("b7")),
            (std::vector<std::string>{"b7:3 lobby erin", "b7:4 ops Client #b7:4"}));
  EXPECT_EQ(directory.node_count(), 1u);
  EXPECT_EQ(directory.find("b7", 3), nullptr);
  EXPECT_EQ(directory.count("lobby"), 0u);
  EXPECT_EQ(directory.count("ops"), 1u);
  EXPECT_NE(directory.find("a1", 3), nullptr);
  // Unknown or already removed: nothing.
  EXPECT_TRUE(directory.remove_node("b7").empty());
  EXPECT_TRUE(directory.remove_node("zz").empty());
}

TEST(RemoteDirectory, FindByNameIgnoresCase) {
  RemoteDirectory directory =
      directory_holding({"b7:1 lobby Alice", "a1:7 dev bob_2", "a1:8 dev Client #a1:8"});

  for (const std::string_view name : {"Alice", "alice", "ALICE", "aLiCe"}) {
    const auto found = directory.find_by_name(name);
    ASSERT_TRUE(found) << name;
    EXPECT_EQ(found->first, "b7");
    EXPECT_EQ(found->second, 1u);
  }
  const auto bob = directory.find_by_name("BOB_2");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->first, "a1");
  EXPECT_EQ(bob->second, 7u);
  EXPECT_FALSE(directory.find_by_name("alic"));
  EXPECT_FALSE(directory.find_by_name("alicee"));
  EXPECT_FALSE(directory.find_by_name(""));

  // A rename frees the old name.
  directory.set("b7", 1, "lobby", "zed");
  EXPECT_FALSE(directory.find_by_name("alice"));
  EXPECT_TRUE(directory.find_by_name("ZED"));
  directory.remove("b7", 1);
  EXPECT_FALSE(directory.find_by_name("zed"));
}

TEST(RemoteDirectory, NamesInListsOneRoomNodeByNode) {
  RemoteDirectory directory = directory_holding(
      {"b7:2 lobby Client #b7:2", "b7:1 lobby alice", "a1:5 lobby carol", "a1:6 dev dave"});

  // Nodes in id order, each node's clients by client number.
  EXPECT_EQ(names_in(directory, "lobby"),
            (std::vector<std::string>{"carol", "alice", "Client #b7:2"}));
  EXPECT_EQ(names_in(directory, "dev"), std::vector<std::string>{"dave"});
  EXPECT_TRUE(names_in(directory, "ops").empty());
  // Room names are matched exactly: the server passes them in lower case.
  EXPECT_TRUE(names_in(directory, "Dev").empty());

  directory.set("b7", 1, "dev", "alice");
  EXPECT_EQ(names_in(directory, "dev"), (std::vector<std::string>{"dave", "alice"}));
  EXPECT_EQ(names_in(directory, "lobby"), (std::vector<std::string>{"carol", "Client #b7:2"}));
}

TEST(RemoteDirectory, HoldsAtMostItsLimitOfNodesAndClients) {
  RemoteDirectory directory;
  for (std::size_t i = 0; i < RemoteDirectory::kMaxNodes + 10; ++i) {
    directory.heard_from("n" + std::to_string(i), kFirstInstance, at(100));
  }
  EXPECT_EQ(directory.node_count(), RemoteDirectory::kMaxNodes);
  EXPECT_EQ(directory.set("beyond", 1, "lobby", "alice"), nullptr) << "a node past the limit";

  for (std::uint64_t id = 1; id <= RemoteDirectory::kMaxClients + 10; ++id) {
    (void)directory.set("n0", id, "lobby", "Client #n0:" + std::to_string(id));
  }
  EXPECT_EQ(directory.client_count(), RemoteDirectory::kMaxClients);
  EXPECT_EQ(directory.count("lobby"), RemoteDirectory::kMaxClients);
  // Known clients can still change; room is made by leaving.
  EXPECT_NE(directory.set("n0", 1, "dev", "alice"), nullptr);
  ASSERT_TRUE(directory.remove("n0", 2));
  EXPECT_NE(directory.set("n1", 1, "dev", "bob"), nullptr);
  EXPECT_EQ(directory.count("dev"), 2u);
}

TEST(RemoteDirectory, ClearForgetsEverything) {
  RemoteDirectory directory = directory_holding({"b7:1 lobby alice", "b7:2 dev bob"});
  directory.clear();
  EXPECT_EQ(directory.node_count(), 0u);
  EXPECT_TRUE(directory.room_counts().empty());
  EXPECT_EQ(directory.count("lobby"), 0u);
  EXPECT_FALSE(directory.find_by_name("alice"));
  EXPECT_TRUE(directory.expire(at(1000000)).empty());
  // Usable again after clearing: the link came back and rosters arrive.
  directory.heard_from("b7", kSecondInstance, at(200));
  directory.set("b7", 1, "lobby", "alice");
  EXPECT_EQ(directory.count("lobby"), 1u);
}

}  // namespace
}  // namespace epollchat::chat
