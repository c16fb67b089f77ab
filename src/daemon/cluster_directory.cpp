#include "daemon/cluster_directory.hpp"

#include "core/command.hpp"

namespace epollchat::daemon {

std::vector<ClusterDirectory::Departure> ClusterDirectory::heard_from(std::string_view node,
                                                                      std::string_view instance,
                                                                      std::int64_t now_ns) {
  std::vector<Departure> departed;
  auto found = nodes_.find(node);
  if (found == nodes_.end()) {
    found = nodes_.emplace(std::string(node), Node{}).first;
    found->second.instance = std::string(instance);
  } else if (found->second.instance != instance) {
    departed = take_clients(found->first, found->second);
    found->second.instance = std::string(instance);
  }
  found->second.last_heard_ns = now_ns;
  return departed;
}

const RemoteClient& ClusterDirectory::set(std::string_view node, std::uint64_t id,
                                          std::string_view room, std::string_view name) {
  auto found = nodes_.find(node);
  if (found == nodes_.end()) found = nodes_.emplace(std::string(node), Node{}).first;
  auto [entry, added] = found->second.clients.try_emplace(id);
  RemoteClient& client = entry->second;
  if (!added && client.room != room) count_out(client.room);
  if (added || client.room != room) {
    client.room = std::string(room);
    count_in(client.room);
  }
  client.name = std::string(name);
  return client;
}

const RemoteClient* ClusterDirectory::find(std::string_view node, std::uint64_t id) const {
  const auto found = nodes_.find(node);
  if (found == nodes_.end()) return nullptr;
  const auto client = found->second.clients.find(id);
  return client == found->second.clients.end() ? nullptr : &client->second;
}

std::optional<RemoteClient> ClusterDirectory::remove(std::string_view node, std::uint64_t id) {
  const auto found = nodes_.find(node);
  if (found == nodes_.end()) return std::nullopt;
  const auto client = found->second.clients.find(id);
  if (client == found->second.clients.end()) return std::nullopt;
  RemoteClient removed = std::move(client->second);
  found->second.clients.erase(client);
  count_out(removed.room);
  return removed;
}

std::vector<ClusterDirectory::Departure> ClusterDirectory::take_clients(const std::string& node_id,
                                                                        Node& node) {
  std::vector<Departure> departed;
  departed.reserve(node.clients.size());
  for (auto& [id, client] : node.clients) {
    count_out(client.room);
    departed.push_back({node_id, id, std::move(client)});
  }
  node.clients.clear();
  return departed;
}

std::vector<ClusterDirectory::Departure> ClusterDirectory::remove_node(std::string_view node) {
  const auto found = nodes_.find(node);
  if (found == nodes_.end()) return {};
  auto departed = take_clients(found->first, found->second);
  nodes_.erase(found);
  return departed;
}

std::vector<ClusterDirectory::Departure> ClusterDirectory::expire(std::int64_t oldest_ns) {
  std::vector<Departure> departed;
  for (auto node = nodes_.begin(); node != nodes_.end();) {
    if (node->second.last_heard_ns >= oldest_ns) {
      ++node;
      continue;
    }
    auto gone = take_clients(node->first, node->second);
    departed.insert(departed.end(), std::make_move_iterator(gone.begin()),
                    std::make_move_iterator(gone.end()));
    node = nodes_.erase(node);
  }
  return departed;
}

void ClusterDirectory::clear() {
  nodes_.clear();
  room_counts_.clear();
}

std::optional<std::pair<std::string, std::uint64_t>> ClusterDirectory::find_by_name(
    std::string_view name) const {
  // Linear: used by /msg and /nick, which are rare next to chat lines.
  for (const auto& [node_id, node] : nodes_) {
    for (const auto& [id, client] : node.clients) {
      if (equals_ignoring_case(client.name, name)) return std::pair(node_id, id);
    }
  }
  return std::nullopt;
}

std::size_t ClusterDirectory::count(std::string_view room) const {
  const auto found = room_counts_.find(room);
  return found == room_counts_.end() ? 0 : found->second;
}

std::vector<std::string_view> ClusterDirectory::names_in(std::string_view room) const {
  std::vector<std::string_view> names;
  for (const auto& [node_id, node] : nodes_) {
    for (const auto& [id, client] : node.clients) {
      if (client.room == room) names.push_back(client.name);
    }
  }
  return names;
}

void ClusterDirectory::count_in(const std::string& room) { ++room_counts_[room]; }

void ClusterDirectory::count_out(const std::string& room) {
  const auto found = room_counts_.find(room);
  if (found == room_counts_.end()) return;
  if (--found->second == 0) room_counts_.erase(found);
}

}  // namespace epollchat::daemon
