// ChannelSubscriptions: which channel commands the link sends as rooms are followed and let
// go of, in every order the wishes and Redis's confirmations can meet.
#include "cluster/channel_subscriptions.hpp"

#include <gtest/gtest.h>

#include <string>
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

}  // namespace
}  // namespace epollchat::cluster
