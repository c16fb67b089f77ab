// RemoteDirectory: who is connected to the other nodes, as far as this node knows.
//
// Owns: a copy of every remote client's name and room, per node, and indexes by room and by
// name, so that every question the commands ask costs O(log n) or O(the room).
// Never: sends anything or decides what users are told; the Server reads the changes it
// reports and words the notices. Holds more than kMaxNodes nodes or kMaxClients clients
// (what Redis says beyond that is ignored: a broken or hostile publisher cannot grow it).
// Lifetime: filled from cluster messages while the link is up; emptied when it goes down
// (then counts and /who are local only) and rebuilt from rosters when it comes back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.hpp"

namespace epollchat::chat {

struct RemoteClient {
  std::string name;
  std::string room;
};

class RemoteDirectory {
 public:
  static constexpr std::size_t kMaxNodes = 1024;
  static constexpr std::size_t kMaxClients = 256 * 1024;

  struct Node {
    std::string instance;
    CoarseTime last_heard;
    // By client number: a node numbers its clients in connection order.
    std::map<std::uint64_t, RemoteClient> clients;
  };
  struct Departure {
    std::string node;
    std::uint64_t id;
    RemoteClient client;
  };

  // Notes that `node` (running as `instance`) was heard from. If the node id was known
  // under another instance, the node restarted: its old clients are removed and returned.
  // A new node beyond kMaxNodes is not recorded.
  std::vector<Departure> heard_from(std::string_view node, std::string_view instance,
                                    CoarseTime now);

  // Adds or updates a client; returns its entry (stable until removed), or null if it is
  // new and the directory is full.
  const RemoteClient* set(std::string_view node, std::uint64_t id, std::string_view room,
                          std::string_view name);
  [[nodiscard]] const RemoteClient* find(std::string_view node, std::uint64_t id) const;
  std::optional<RemoteClient> remove(std::string_view node, std::uint64_t id);
  // Every client of the node, removed.
  std::vector<Departure> remove_node(std::string_view node);
  // Nodes not heard from since `oldest`, with their clients, removed.
  std::vector<Departure> expire(CoarseTime oldest);
  void clear();

  // A client whose name is `name` in any case.
  [[nodiscard]] std::optional<std::pair<std::string, std::uint64_t>> find_by_name(
      std::string_view name) const;

  [[nodiscard]] std::size_t count(std::string_view room) const;
  [[nodiscard]] std::size_t node_count() const noexcept { return nodes_.size(); }
  [[nodiscard]] std::size_t client_count() const noexcept { return client_count_; }
  // Names of the remote clients in `room`, node by node (in node id order, each node's
  // clients by number).
  [[nodiscard]] std::vector<std::string_view> names_in(std::string_view room) const;
  // Rooms with remote clients, and how many.
  [[nodiscard]] const std::map<std::string, std::size_t, std::less<>>& room_counts()
      const noexcept {
    return room_counts_;
  }
  [[nodiscard]] const std::map<std::string, Node, std::less<>>& nodes() const noexcept {
    return nodes_;
  }

 private:
  // A client as the indexes know it; `node` views the key of nodes_, stable while the node
  // is known.
  struct ClientKey {
    std::string_view node;
    std::uint64_t id;
    auto operator<=>(const ClientKey&) const = default;
  };

  void index(ClientKey key, const RemoteClient& client);
  void unindex(ClientKey key, const RemoteClient& client);
  Node* node_for(std::string_view node);
  std::vector<Departure> take_clients(const std::string& node_id, Node& node);

  std::map<std::string, Node, std::less<>> nodes_;
  // Ordered with a transparent comparator, so population() looks a room up by its name's
  // view without building a string.
  std::map<std::string, std::size_t, std::less<>> room_counts_;
  std::map<std::string, std::set<ClientKey>, std::less<>> room_members_;
  // Lower-case names; more than one holder only while nodes disagree (after an outage).
  std::unordered_map<std::string, std::vector<ClientKey>> by_name_;
  std::size_t client_count_ = 0;
};

}  // namespace epollchat::chat
