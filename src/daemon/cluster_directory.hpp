// ClusterDirectory: who is connected to the other nodes, as far as this node knows.
//
// Owns: a copy of every remote client's name and room, per node, and per-room counts.
// Never: sends anything or decides what users are told; the Server reads the changes it
// reports and words the notices.
// Lifetime: filled from cluster messages while the link is up; emptied when it goes down
// (then counts and /who are local only) and rebuilt from rosters when it comes back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epollchat::daemon {

struct RemoteClient {
  std::string name;
  std::string room;
};

class ClusterDirectory {
 public:
  struct Node {
    std::string instance;
    std::int64_t last_heard_ns = 0;
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
  std::vector<Departure> heard_from(std::string_view node, std::string_view instance,
                                    std::int64_t now_ns);

  // Adds or updates a client; returns its entry (stable until removed).
  const RemoteClient& set(std::string_view node, std::uint64_t id, std::string_view room,
                          std::string_view name);
  [[nodiscard]] const RemoteClient* find(std::string_view node, std::uint64_t id) const;
  std::optional<RemoteClient> remove(std::string_view node, std::uint64_t id);
  // Every client of the node, removed.
  std::vector<Departure> remove_node(std::string_view node);
  // Nodes not heard from since `oldest_ns`, with their clients, removed.
  std::vector<Departure> expire(std::int64_t oldest_ns);
  void clear();

  // A client whose name is `name` in any case.
  [[nodiscard]] std::optional<std::pair<std::string, std::uint64_t>> find_by_name(
      std::string_view name) const;

  [[nodiscard]] std::size_t count(std::string_view room) const;
  [[nodiscard]] std::size_t node_count() const noexcept { return nodes_.size(); }
  // Names of the remote clients in `room`, node by node.
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
  void count_in(const std::string& room);
  void count_out(const std::string& room);
  std::vector<Departure> take_clients(const std::string& node_id, Node& node);

  std::map<std::string, Node, std::less<>> nodes_;
  // Ordered with a transparent comparator, so population() looks a room up by its name's
  // view without building a string; there are few rooms.
  std::map<std::string, std::size_t, std::less<>> room_counts_;
};

}  // namespace epollchat::daemon
