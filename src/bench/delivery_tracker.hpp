// DeliveryTracker: which receiver has which message of which sender, and the send window.
//
// Every receiver must get every sender's messages once and in order (a sender's own
// connection is not among its receivers in line mode: the server does not echo a line).
// Per (receiver, sender) pair it keeps the next expected sequence number plus a 64-bit map
// of the messages already seen beyond it, so loss, reordering and duplication are counted
// exactly in 16 bytes per pair.
//
// Flow control: a sender may be at most `window` messages ahead of the slowest receiver.
// Per sender a ring of `window` counters counts how many receivers hold each outstanding
// message; when the oldest one is held by all, the window slides. Because every receiver
// then holds everything below the window, no message can arrive more than `window` beyond
// what a receiver expects next, which is why 64 bits of "seen" map suffice (window <= 64).
// The slowest reader, not the fastest, paces the senders, so the server's per-client
// backlog stays below senders * window messages and no well-behaved server has to cut off
// a reader for being slow.
//
// Owns: plain arrays. Never sees a socket or a clock. Lifetime: one benchmark run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace epollchat::bench {

inline constexpr std::uint32_t kMaxWindow = 64;

enum class Arrival { in_order, reordered, duplicate, out_of_window };

class DeliveryTracker {
 public:
  // `own_receiver[s]` is the receiver index of sender s's own connection, or -1.
  DeliveryTracker(std::uint32_t receivers, std::uint32_t senders, std::uint32_t window,
                  std::vector<std::int64_t> own_receiver);

  Arrival record(std::uint32_t receiver, std::uint32_t sender, std::uint32_t seq) noexcept;

  // How many more messages sender s may send now.
  [[nodiscard]] std::uint32_t credit(std::uint32_t sender) const noexcept {
    return window_ - (sent_[sender] - acked_[sender]);
  }
  void note_sent(std::uint32_t sender, std::uint32_t count) noexcept { sent_[sender] += count; }
  [[nodiscard]] std::uint32_t sent(std::uint32_t sender) const noexcept { return sent_[sender]; }
  [[nodiscard]] std::uint32_t senders() const noexcept { return senders_; }
  // True when every receiver holds everything sent so far.
  [[nodiscard]] bool is_all_delivered() const noexcept;

  [[nodiscard]] std::uint64_t expected() const noexcept;
  [[nodiscard]] std::uint64_t unique_deliveries() const noexcept { return unique_; }
  [[nodiscard]] std::uint64_t reordered() const noexcept { return reordered_; }
  [[nodiscard]] std::uint64_t duplicated() const noexcept { return duplicated_; }
  [[nodiscard]] std::uint64_t out_of_window() const noexcept { return out_of_window_; }
  [[nodiscard]] std::uint64_t lost() const noexcept { return expected() - unique_; }

 private:
  struct PairState {
    std::uint32_t next = 0;    // every seq below this has arrived
    std::uint64_t beyond = 0;  // bit i: seq next + 1 + i has arrived
  };

  void count_receipt(std::uint32_t sender, std::uint32_t seq) noexcept;

  std::uint32_t receivers_;
  std::uint32_t senders_;
  std::uint32_t window_;
  std::vector<std::int64_t> own_receiver_;
  std::vector<PairState> pairs_;        // [receiver * senders + sender]
  std::vector<std::uint32_t> holders_;  // [sender * window + seq % window]
  std::vector<std::uint32_t> sent_;
  std::vector<std::uint32_t> acked_;   // all receivers hold every seq below this
  std::vector<std::uint32_t> needed_;  // receivers per message of each sender
  std::uint64_t unique_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t duplicated_ = 0;
  std::uint64_t out_of_window_ = 0;
};

}  // namespace epollchat::bench
