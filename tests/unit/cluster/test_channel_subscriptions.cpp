// ChannelSubscriptions: which channel commands the link sends as rooms are followed and let
// go of, in every order the wishes and Redis's confirmations can meet.
#include "cluster/channel_subscriptions.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace epollchat::cluster {
namespace {

using Command = ChannelSubscriptions::Command;
using Phase = ChannelSubscriptions::Phase;

constexpr std::string_view kRoom = "epollchat:room:dev";

ChannelSubscriptions connected() {
  ChannelSubscriptions subscriptions;
  EXPECT_TRUE(subscriptions.begin_connection().empty());
  return subscriptions;
}

TEST(ChannelSubscriptions, WishesWithoutAConnectionAreSubscribedOnConnecting) {
  ChannelSubscriptions subscriptions;
  EXPECT_EQ(subscriptions.follow("epollchat:presence"), Command::none);
  EXPECT_EQ(subscriptions.follow(kRoom), Command::none);
  EXPECT_EQ(subscriptions.follow("epollchat:room:gone"), Command::none);
  EXPECT_EQ(subscriptions.unfollow("epollchat:room:gone"), Command::none);
  EXPECT_EQ(subscriptions.wanted(), 2u);
  EXPECT_EQ(subscriptions.begin_connection(),
            (std::vector<std::string>{"epollchat:presence", std::string(kRoom)}));
  EXPECT_EQ(subscriptions.requested(), 2u);
  EXPECT_FALSE(subscriptions.is_settled());
  EXPECT_EQ(subscriptions.on_subscribed("epollchat:presence"), Command::none);
  EXPECT_EQ(subscriptions.on_subscribed(kRoom), Command::none);
  EXPECT_TRUE(subscriptions.is_settled());
  EXPECT_EQ(subscriptions.phase(kRoom), Phase::subscribed);
}

TEST(ChannelSubscriptions, FollowingTwiceAsksOnce) {
  auto subscriptions = connected();
  EXPECT_EQ(subscriptions.follow(kRoom), Command::subscribe);
  EXPECT_EQ(subscriptions.follow(kRoom), Command::none);
  EXPECT_EQ(subscriptions.requested(), 1u);
  EXPECT_EQ(subscriptions.phase(kRoom), Phase::subscribing);
  EXPECT_EQ(subscriptions.on_subscribed(kRoom), Command::none);
  EXPECT_EQ(subscriptions.follow(kRoom), Command::none);
  EXPECT_EQ(subscriptions.unfollow(kRoom), Command::unsubscribe);
  EXPECT_EQ(subscriptions.unfollow(kRoom), Command::none);
  EXPECT_EQ(subscriptions.on_unsubscribed(kRoom), Command::none);
  EXPECT_EQ(subscriptions.phase(kRoom), Phase::unsubscribed);
  EXPECT_TRUE(subscriptions.is_settled());
  EXPECT_EQ(subscriptions.wanted(), 0u);
}

TEST(ChannelSubscriptions, LetGoOfWhileSubscribingIsLeftOnceConfirmed) {
  auto subscriptions = connected();
  EXPECT_EQ(subscriptions.follow(kRoom), Command::subscribe);
  EXPECT_EQ(subscriptions.unfollow(kRoom), Command::none);
  EXPECT_EQ(subscriptions.on_subscribed(kRoom), Command::unsubscribe);
  EXPECT_EQ(subscriptions.phase(kRoom), Phase::unsubscribing);
  EXPECT_FALSE(subscriptions.is_settled());
  EXPECT_EQ(subscriptions.on_unsubscribed(kRoom), Command::none);
  EXPECT_EQ(subscriptions.phase(kRoom), Phase::unsubscribed);
  EXPECT_TRUE(subscriptions.is_settled());
}

TEST(ChannelSubscriptions, WantedAgainWhileLeavingIsSubscribedAgainOnceLeft) {
  auto subscriptions = connected();
  EXPECT_EQ(subscriptions.follow(kRoom), Command::subscribe);
  EXPECT_EQ(subscriptions.on_subscribed(kRoom), Command::none);
  EXPECT_EQ(subscriptions.unfollow(kRoom), Command::unsubscribe);
  // The last member left and a new one arrived before Redis confirmed the leave: the leave
  // still happens (it was sent), so the channel must be asked for again after it.
  EXPECT_EQ(subscriptions.follow(kRoom), Command::none);
  EXPECT_EQ(subscriptions.on_unsubscribed(kRoom), Command::subscribe);
  EXPECT_EQ(subscriptions.phase(kRoom), Phase::subscribing);
  EXPECT_FALSE(subscriptions.is_settled());
  EXPECT_EQ(subscriptions.on_subscribed(kRoom), Command::none);
  EXPECT_EQ(subscriptions.phase(kRoom), Phase::subscribed);
  EXPECT_TRUE(subscriptions.is_settled());
}

TEST(ChannelSubscriptions, FlappingEndsInTheLastWish) {
  for (const bool last_wish : {false, true}) {
    auto subscriptions = connected();
    EXPECT_EQ(subscriptions.follow(kRoom), Command::subscribe);
    std::size_t sent = 1;
    for (int flip = 0; flip < 7; ++flip) {
      const Command command =
          flip % 2 == 0 ? subscriptions.unfollow(kRoom) : subscriptions.follow(kRoom);
      if (command != Command::none) ++sent;
    }
    if (last_wish) {
      EXPECT_EQ(subscriptions.follow(kRoom), Command::none);
    }
    // Redis confirms one request at a time; each confirmation may ask for the next.
    while (!subscriptions.is_settled()) {
      const Phase phase = subscriptions.phase(kRoom);
      const Command next = phase == Phase::subscribing ? subscriptions.on_subscribed(kRoom)
                                                       : subscriptions.on_unsubscribed(kRoom);
      if (next != Command::none) ++sent;
      ASSERT_LE(sent, 4u) << "a flapping wish must not ask Redis again and again";
    }
    EXPECT_EQ(subscriptions.phase(kRoom), last_wish ? Phase::subscribed : Phase::unsubscribed);
    EXPECT_EQ(subscriptions.requested(), sent);
  }
}

TEST(ChannelSubscriptions, CountsEveryConfirmationInOrder) {
  auto subscriptions = connected();
  EXPECT_EQ(subscriptions.follow("a"), Command::subscribe);
  EXPECT_EQ(subscriptions.follow("b"), Command::subscribe);
  const auto mark = subscriptions.requested();
  EXPECT_EQ(subscriptions.on_subscribed("a"), Command::none);
  EXPECT_LT(subscriptions.confirmed(), mark);
  EXPECT_EQ(subscriptions.on_subscribed("b"), Command::none);
  EXPECT_EQ(subscriptions.confirmed(), mark);
}

TEST(ChannelSubscriptions, ALostConnectionKeepsOnlyTheWishes) {
  auto subscriptions = connected();
  EXPECT_EQ(subscriptions.follow("kept"), Command::subscribe);
  EXPECT_EQ(subscriptions.follow("dropped"), Command::subscribe);
  EXPECT_EQ(subscriptions.on_subscribed("kept"), Command::none);
  EXPECT_EQ(subscriptions.unfollow("dropped"), Command::none);
  subscriptions.end_connection();
  EXPECT_FALSE(subscriptions.is_connected());
  EXPECT_EQ(subscriptions.phase("kept"), Phase::unsubscribed);
  EXPECT_TRUE(subscriptions.is_wanted("kept"));
  EXPECT_FALSE(subscriptions.is_wanted("dropped"));
  // Confirmations of the old connection count for nothing.
  EXPECT_EQ(subscriptions.on_subscribed("dropped"), Command::none);
  EXPECT_EQ(subscriptions.follow("new"), Command::none);
  EXPECT_EQ(subscriptions.begin_connection(), (std::vector<std::string>{"kept", "new"}));
  EXPECT_EQ(subscriptions.requested(), 2u);
  EXPECT_EQ(subscriptions.confirmed(), 0u);
}

// A seeded walk through wishes, Redis's confirmations (one request at a time, in the order
// sent, as Redis answers them) and lost connections, against a model of what Redis has
// subscribed. After every step: a channel the link counts as subscribed is subscribed in
// Redis (so what arrives on it may be passed on), and the requests in flight are those not
// confirmed; whenever nothing is in flight, Redis has exactly the channels wanted.
TEST(ChannelSubscriptions, ASeededWalkAlwaysEndsWithRedisHoldingExactlyTheWishes) {
  const std::vector<std::string> channels = {"a", "b", "c", "d"};
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 random(seed);
    ChannelSubscriptions subscriptions;
    std::set<std::string> wanted;
    std::set<std::string> in_redis;
    std::deque<std::pair<Command, std::string>> in_flight;
    bool connected = false;
    const auto sent = [&in_flight](Command command, const std::string& channel) {
      if (command != Command::none) in_flight.emplace_back(command, channel);
    };
    for (int step = 0; step < 5000; ++step) {
      const std::string& channel = channels[random() % channels.size()];
      switch (random() % 6) {
        case 0:
          wanted.insert(channel);
          sent(subscriptions.follow(channel), channel);
          break;
        case 1:
          wanted.erase(channel);
          sent(subscriptions.unfollow(channel), channel);
          break;
        case 2:
        case 3:
          if (!in_flight.empty()) {
            const auto [command, name] = in_flight.front();
            in_flight.pop_front();
            if (command == Command::subscribe) {
              in_redis.insert(name);
              sent(subscriptions.on_subscribed(name), name);
            } else {
              in_redis.erase(name);
              sent(subscriptions.on_unsubscribed(name), name);
            }
          }
          break;
        case 4:
          if (random() % 50 == 0) {
            subscriptions.end_connection();
            in_flight.clear();
            in_redis.clear();
            connected = false;
          }
          break;
        default:
          if (!connected) {
            connected = true;
            for (const std::string& name : subscriptions.begin_connection()) {
              in_flight.emplace_back(Command::subscribe, name);
            }
          }
          break;
      }
      ASSERT_EQ(subscriptions.requested() - subscriptions.confirmed(), in_flight.size())
          << "seed " << seed << " step " << step;
      for (const std::string& name : channels) {
        ASSERT_EQ(subscriptions.is_wanted(name), wanted.contains(name));
        if (subscriptions.phase(name) == Phase::subscribed) {
          ASSERT_TRUE(in_redis.contains(name)) << "seed " << seed << " step " << step;
        }
      }
      if (connected && in_flight.empty()) {
        ASSERT_EQ(in_redis, wanted) << "seed " << seed << " step " << step;
      }
      // Never more than a leave and a join per channel on the way.
      ASSERT_LE(in_flight.size(), 2 * channels.size());
    }
  }
}

}  // namespace
}  // namespace epollchat::cluster
