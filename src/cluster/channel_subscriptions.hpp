// ChannelSubscriptions: which Redis channels the link's subscriber connection should be on,
// which it is on, and which requests Redis has not confirmed yet.
//
// Owns: a record per channel that is wanted or still being left, and the counts of
// SUBSCRIBE/UNSUBSCRIBE requests made and confirmed on the current connection.
// Never: does I/O: each call says which command the caller must send, and the caller reports
// Redis's confirmations back.
//
// Why the bookkeeping: a node follows a room's channel only while it has members there, so
// channels are joined and left all the time, and a join may come while the leave of the same
// channel is still on its way (or the other way round). Redis confirms each channel of a
// SUBSCRIBE or UNSUBSCRIBE once, in the order asked, so a channel is in one of three phases
// and the next request waits for the confirmation of the last: a room wanted again while
// being left is subscribed again once the leave is confirmed, never left behind unsubscribed.
// The counts let the link hold its publications until every subscription asked for before
// them is in effect (see ClusterLink::publish).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::cluster {

class ChannelSubscriptions {
 public:
  enum class Command : std::uint8_t { none, subscribe, unsubscribe };
  enum class Phase : std::uint8_t { unsubscribed, subscribing, subscribed, unsubscribing };

  // Want (or stop wanting) `channel`; returns what to send for it now. Without a connection
  // only the wish is kept.
  [[nodiscard]] Command follow(std::string_view channel);
  [[nodiscard]] Command unfollow(std::string_view channel);

  // Redis confirmed a subscription (or an unsubscription) of `channel`; returns what to send
  // next for it: the opposite, if the wish changed meanwhile.
  [[nodiscard]] Command on_subscribed(std::string_view channel);
  [[nodiscard]] Command on_unsubscribed(std::string_view channel);

  // A new connection: nothing is subscribed on it yet. Returns every channel wanted, all now
  // being subscribed (one SUBSCRIBE with all of them).
  [[nodiscard]] std::vector<std::string> begin_connection();
  // The connection is gone: only the wishes are kept.
  void end_connection();

  [[nodiscard]] bool is_connected() const noexcept { return connected_; }
  [[nodiscard]] bool is_wanted(std::string_view channel) const;
  [[nodiscard]] Phase phase(std::string_view channel) const;
  // Channels wanted.
  [[nodiscard]] std::size_t wanted() const noexcept { return wanted_; }
  // Requests sent on this connection, and those Redis confirmed; every request up to
  // confirmed() is in effect.
  [[nodiscard]] std::uint64_t requested() const noexcept { return requested_; }
  [[nodiscard]] std::uint64_t confirmed() const noexcept { return confirmed_; }
  [[nodiscard]] bool is_settled() const noexcept { return confirmed_ == requested_; }

 private:
  struct Channel {
    bool wanted = false;
    Phase phase = Phase::unsubscribed;
  };

  // Counts a command about to be sent.
  Command ask(Command command);
  // Drops the record of a channel neither wanted nor in any phase.
  void forget_if_idle(std::map<std::string, Channel, std::less<>>::iterator channel);

  std::map<std::string, Channel, std::less<>> channels_;
  std::size_t wanted_ = 0;
  std::uint64_t requested_ = 0;
  std::uint64_t confirmed_ = 0;
  bool connected_ = false;
};

}  // namespace epollchat::cluster
