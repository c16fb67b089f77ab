#include "cluster/channel_subscriptions.hpp"

#include <iterator>

namespace epollchat::cluster {

using Command = ChannelSubscriptions::Command;
using Phase = ChannelSubscriptions::Phase;

Command ChannelSubscriptions::ask(Command command) {
  if (command != Command::none) ++requested_;
  return command;
}

void ChannelSubscriptions::forget_if_idle(
    std::map<std::string, Channel, std::less<>>::iterator channel) {
  if (!channel->second.wanted && channel->second.phase == Phase::unsubscribed) {
    channels_.erase(channel);
  }
}

Command ChannelSubscriptions::follow(std::string_view name) {
  auto channel = channels_.find(name);
  if (channel == channels_.end()) channel = channels_.emplace(std::string(name), Channel{}).first;
  if (channel->second.wanted) return Command::none;
  channel->second.wanted = true;
  ++wanted_;
  // Subscribing or subscribed: already on its way. Unsubscribing: subscribed again once the
  // leave is confirmed (on_unsubscribed).
  if (!connected_ || channel->second.phase != Phase::unsubscribed) return Command::none;
  channel->second.phase = Phase::subscribing;
  return ask(Command::subscribe);
}

Command ChannelSubscriptions::unfollow(std::string_view name) {
  const auto channel = channels_.find(name);
  if (channel == channels_.end() || !channel->second.wanted) return Command::none;
  channel->second.wanted = false;
  --wanted_;
  if (channel->second.phase != Phase::subscribed) {
    // Subscribing: left once that is confirmed (on_subscribed).
    forget_if_idle(channel);
    return Command::none;
  }
  channel->second.phase = Phase::unsubscribing;
  return ask(Command::unsubscribe);
}

Command ChannelSubscriptions::on_subscribed(std::string_view name) {
  if (!connected_) return Command::none;
  ++confirmed_;
  const auto channel = channels_.find(name);
  if (channel == channels_.end() || channel->second.phase != Phase::subscribing) {
    return Command::none;
  }
  if (channel->second.wanted) {
    channel->second.phase = Phase::subscribed;
    return Command::none;
  }
  channel->second.phase = Phase::unsubscribing;
  return ask(Command::unsubscribe);
}

Command ChannelSubscriptions::on_unsubscribed(std::string_view name) {
  if (!connected_) return Command::none;
  ++confirmed_;
  const auto channel = channels_.find(name);
  if (channel == channels_.end() || channel->second.phase != Phase::unsubscribing) {
    return Command::none;
  }
  if (channel->second.wanted) {
    channel->second.phase = Phase::subscribing;
    return ask(Command::subscribe);
  }
  channel->second.phase = Phase::unsubscribed;
  forget_if_idle(channel);
  return Command::none;
}

std::vector<std::string> ChannelSubscriptions::begin_connection() {
  end_connection();
  connected_ = true;
  std::vector<std::string> subscribing;
  subscribing.reserve(channels_.size());
  for (auto& [name, channel] : channels_) {
    channel.phase = Phase::subscribing;
    subscribing.push_back(name);
  }
  requested_ = subscribing.size();
  return subscribing;
}

void ChannelSubscriptions::end_connection() {
  connected_ = false;
  requested_ = 0;
  confirmed_ = 0;
  for (auto channel = channels_.begin(); channel != channels_.end();) {
    const auto next = std::next(channel);
    channel->second.phase = Phase::unsubscribed;
    forget_if_idle(channel);
    channel = next;
  }
}

bool ChannelSubscriptions::is_wanted(std::string_view name) const {
  const auto channel = channels_.find(name);
  return channel != channels_.end() && channel->second.wanted;
}

Phase ChannelSubscriptions::phase(std::string_view name) const {
  const auto channel = channels_.find(name);
  return channel == channels_.end() ? Phase::unsubscribed : channel->second.phase;
}

}  // namespace epollchat::cluster
