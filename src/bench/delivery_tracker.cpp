#include "bench/delivery_tracker.hpp"

#include <bit>

namespace epollchat::bench {

DeliveryTracker::DeliveryTracker(std::uint32_t receivers, std::uint32_t senders,
                                 std::uint32_t window, std::vector<std::int64_t> own_receiver)
    : receivers_(receivers),
      senders_(senders),
      window_(window),
      own_receiver_(std::move(own_receiver)),
      pairs_(std::size_t{receivers} * senders),
      holders_(std::size_t{senders} * window),
      sent_(senders),
      acked_(senders),
      needed_(senders) {
  for (std::uint32_t s = 0; s < senders_; ++s)
    needed_[s] = receivers_ - (own_receiver_[s] >= 0 ? 1u : 0u);
}

Arrival DeliveryTracker::record(std::uint32_t receiver, std::uint32_t sender,
                                std::uint32_t seq) noexcept {
  PairState& pair = pairs_[std::size_t{receiver} * senders_ + sender];
  if (seq < pair.next) {
    ++duplicated_;
    return Arrival::duplicate;
  }
  if (seq == pair.next) {
    // Anything already seen beyond it means this one overtook nothing but was overtaken.
    const bool was_overtaken = pair.beyond != 0;
    ++pair.next;
    // Slide over the run of already-seen messages that now follows.
    const auto run = static_cast<unsigned>(std::countr_one(pair.beyond));
    pair.next += run;
    pair.beyond = run >= 63 ? 0 : pair.beyond >> (run + 1);
    ++unique_;
    count_receipt(sender, seq);
    if (was_overtaken) {
      ++reordered_;
      return Arrival::reordered;
    }
    return Arrival::in_order;
  }
  const std::uint32_t distance = seq - pair.next - 1;
  if (distance >= 64 || seq >= sent_[sender]) {
    ++out_of_window_;
    return Arrival::out_of_window;
  }
  const std::uint64_t bit = std::uint64_t{1} << distance;
  if (pair.beyond & bit) {
    ++duplicated_;
    return Arrival::duplicate;
  }
  pair.beyond |= bit;
  ++unique_;
  count_receipt(sender, seq);
  // It overtook the messages between next and seq; those count as reordered when they come.
  return Arrival::in_order;
}

void DeliveryTracker::count_receipt(std::uint32_t sender, std::uint32_t seq) noexcept {
  std::uint32_t* ring = &holders_[std::size_t{sender} * window_];
  ++ring[seq % window_];
  std::uint32_t& acked = acked_[sender];
  while (acked < sent_[sender] && ring[acked % window_] >= needed_[sender]) {
    ring[acked % window_] = 0;
    ++acked;
  }
}

bool DeliveryTracker::is_all_delivered() const noexcept {
  for (std::uint32_t s = 0; s < senders_; ++s)
    if (acked_[s] != sent_[s] && needed_[s] > 0) return false;
  return true;
}

std::uint64_t DeliveryTracker::expected() const noexcept {
  std::uint64_t total = 0;
  for (std::uint32_t s = 0; s < senders_; ++s) total += std::uint64_t{sent_[s]} * needed_[s];
  return total;
}

}  // namespace epollchat::bench
