#include "bench/join_barrier.hpp"

#include <utility>

namespace epollchat::bench {

JoinBarrier::JoinBarrier(std::uint32_t clients)
    : clients_(clients),
      pairs_(std::uint64_t{clients} * (clients > 0 ? clients - 1 : 0) / 2),
      bits_((pairs_ + 63) / 64) {
  clients_by_name_.reserve(clients);
}

void JoinBarrier::note_welcome(std::uint32_t client, std::string_view name) {
  if (client >= clients_) return;
  clients_by_name_.emplace(name, client);
  if (const auto it = waiting_.find(name); it != waiting_.end()) {
    for (const std::uint32_t receiver : it->second) cover(receiver, client);
    waiting_.erase(it);
  }
}

void JoinBarrier::note_join(std::uint32_t receiver, std::string_view name) {
  if (receiver >= clients_) return;
  if (const auto it = clients_by_name_.find(name); it != clients_by_name_.end()) {
    cover(receiver, it->second);
    return;
  }
  auto it = waiting_.find(name);
  if (it == waiting_.end()) it = waiting_.try_emplace(std::string(name)).first;
  it->second.push_back(receiver);
}

void JoinBarrier::cover(std::uint32_t a, std::uint32_t b) noexcept {
  if (a == b) return;
  if (a > b) std::swap(a, b);
  const std::uint64_t bit = std::uint64_t{b} * (b - 1) / 2 + a;
  std::uint64_t& word = bits_[bit / 64];
  const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
  if (word & mask) return;
  word |= mask;
  ++covered_;
}

}  // namespace epollchat::bench
