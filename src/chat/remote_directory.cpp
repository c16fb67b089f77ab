#include "chat/remote_directory.hpp"

#include <algorithm>

#include "chat/names.hpp"

namespace epollchat::chat {

RemoteDirectory::Node* RemoteDirectory::node_for(std::string_view node) {
  auto found = nodes_.find(node);
  if (found != nodes_.end()) return &found->second;
  if (nodes_.size() >= kMaxNodes) return nullptr;
  return &nodes_.emplace(std::string(node), Node{}).first->second;
}

std::vector<RemoteDirectory::Departure> RemoteDirectory::heard_from(std::string_view node,
                                                                    std::string_view instance,
                                                                    CoarseTime now) {
  std::vector<Departure> departed;
  auto found = nodes_.find(node);
  if (found == nodes_.end()) {
    if (nodes_.size() >= kMaxNodes) return departed;
    found = nodes_.emplace(std::string(node), Node{}).first;
    found->second.instance = std::string(instance);
  } else if (found->second.instance != instance) {
    departed = take_clients(found->first, found->second);
    found->second.instance = std::string(instance);
  }
  found->second.last_heard = now;
  return departed;
}

void RemoteDirectory::index(ClientKey key, const RemoteClient& client) {
  ++room_counts_[client.room];
  room_members_[client.room].insert(key);
  by_name_[lower_case_ascii(client.name)].push_back(key);
}

void RemoteDirectory::unindex(ClientKey key, const RemoteClient& client) {
  if (const auto count = room_counts_.find(client.room);
      count != room_counts_.end() && --count->second == 0) {
    room_counts_.erase(count);
  }
  if (const auto members = room_members_.find(client.room); members != room_members_.end()) {
    members->second.erase(key);
    if (members->second.empty()) room_members_.erase(members);
  }
  if (const auto holders = by_name_.find(lower_case_ascii(client.name));
      holders != by_name_.end()) {
    std::erase(holders->second, key);
    if (holders->second.empty()) by_name_.erase(holders);
  }
}

const RemoteClient* RemoteDirectory::set(std::string_view node, std::uint64_t id,
                                         std::string_view room, std::string_view name) {
  Node* known = node_for(node);
  if (known == nullptr) return nullptr;
  const ClientKey key{nodes_.find(node)->first, id};
  auto entry = known->clients.find(id);
  if (entry == known->clients.end()) {
    if (client_count_ >= kMaxClients) return nullptr;
    entry = known->clients.emplace(id, RemoteClient{}).first;
    ++client_count_;
  } else {
    unindex(key, entry->second);
  }
  RemoteClient& client = entry->second;
  client.room = std::string(room);
  client.name = std::string(name);
  index(key, client);
  return &client;
}

const RemoteClient* RemoteDirectory::find(std::string_view node, std::uint64_t id) const {
  const auto found = nodes_.find(node);
  if (found == nodes_.end()) return nullptr;
  const auto client = found->second.clients.find(id);
  return client == found->second.clients.end() ? nullptr : &client->second;
}

std::optional<RemoteClient> RemoteDirectory::remove(std::string_view node, std::uint64_t id) {
  const auto found = nodes_.find(node);
  if (found == nodes_.end()) return std::nullopt;
  const auto client = found->second.clients.find(id);
  if (client == found->second.clients.end()) return std::nullopt;
  unindex(ClientKey{found->first, id}, client->second);
  RemoteClient removed = std::move(client->second);
  found->second.clients.erase(client);
  --client_count_;
  return removed;
}

std::vector<RemoteDirectory::Departure> RemoteDirectory::take_clients(const std::string& node_id,
                                                                      Node& node) {
  std::vector<Departure> departed;
  departed.reserve(node.clients.size());
  for (auto& [id, client] : node.clients) {
    unindex(ClientKey{node_id, id}, client);
    departed.push_back({node_id, id, std::move(client)});
  }
  client_count_ -= node.clients.size();
  node.clients.clear();
  return departed;
}

std::vector<RemoteDirectory::Departure> RemoteDirectory::remove_node(std::string_view node) {
  const auto found = nodes_.find(node);
  if (found == nodes_.end()) return {};
  auto departed = take_clients(found->first, found->second);
  nodes_.erase(found);
  return departed;
}

std::vector<RemoteDirectory::Departure> RemoteDirectory::expire(CoarseTime oldest) {
  std::vector<Departure> departed;
  for (auto node = nodes_.begin(); node != nodes_.end();) {
    if (node->second.last_heard >= oldest) {
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

void RemoteDirectory::clear() {
  room_counts_.clear();
  room_members_.clear();
  by_name_.clear();
  nodes_.clear();
  client_count_ = 0;
}

std::optional<std::pair<std::string, std::uint64_t>> RemoteDirectory::find_by_name(
    std::string_view name) const {
  const auto found = by_name_.find(lower_case_ascii(name));
  if (found == by_name_.end() || found->second.empty()) return std::nullopt;
  const ClientKey& key = found->second.front();
  return std::pair(std::string(key.node), key.id);
}

std::size_t RemoteDirectory::count(std::string_view room) const {
  const auto found = room_counts_.find(room);
  return found == room_counts_.end() ? 0 : found->second;
}

std::vector<std::string_view> RemoteDirectory::names_in(std::string_view room) const {
  std::vector<std::string_view> names;
  const auto members = room_members_.find(room);
  if (members == room_members_.end()) return names;
  names.reserve(members->second.size());
  for (const ClientKey& key : members->second) {
    if (const RemoteClient* client = find(key.node, key.id)) names.push_back(client->name);
  }
  return names;
}

}  // namespace epollchat::chat
