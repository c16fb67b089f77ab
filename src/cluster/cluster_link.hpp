// ClusterLink: this node's link to the others, through Redis pub/sub.
//
// Owns: two Redis connections (one publishes and runs commands, one only subscribes, as
// Redis requires), the link state, the heartbeat and reconnect timers, the record of
// commands sent but not yet answered, the channels followed, and publications held until
// the subscriptions asked for before them are in effect.
// Never: knows sessions or rooms; blocks; lets Redis grow this process's memory without
// bound: at most kMaxUnansweredBytes of commands may wait for Redis, later chat messages are
// dropped and counted; presence has kPresenceReserveBytes more, and a loss beyond that is
// repaired by a roster (on_presence_lost). Delivery of chat is at-most-once: what is
// published while the link is down is lost, never replayed. Accepts nothing from Redis
// that claims this node's id, and no reply over kMaxReplyBytes (RedisConnection).
// Lifetime: owned by the Server; the handler (the Server) outlives it.
//
// Channels: presence and node-wide events (kPresenceChannel) go to every node; chat and
// actions of a room go to `epollchat:room:<room>`, which a node follows only while it has
// members there (follow_room), so a node receives only the rooms it hosts; whispers go to
// the target node's `epollchat:whisper:<node>`. Payloads carry the link format
// (message_codec.hpp); anything of another format, and anything on the channel of the
// previous format, is refused with a warning naming the node.
//
// Liveness: every second the node refreshes its key `epollchat:node:<id>` (TTL 5 s) and
// publishes a heartbeat, which it also receives back. A command unanswered, or its own
// heartbeat not echoed, for kReplyTimeout means Redis is stuck or gone: the link is dropped
// and retried with exponential backoff (250 ms doubling to 4 s, each wait drawn from its
// upper half at random, so restarted nodes do not reconnect in lockstep).
// The node key also makes the id exclusive: it is taken only if absent or already this
// process's, so a second process started with a node id in use stays off the link (and
// says why) until the first is gone: it said goodbye, or its key expired 5 s after it died.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <random>
#include <string>
#include <string_view>

#include "chat/node_link.hpp"
#include "chat/node_message.hpp"
#include "cluster/channel_subscriptions.hpp"
#include "cluster/redis_address.hpp"
#include "cluster/redis_connection.hpp"
#include "core/clock.hpp"
#include "core/event_loop.hpp"
#include "core/keyed_repeated_log.hpp"
#include "core/log.hpp"
#include "core/repeated_log.hpp"
#include "core/timer.hpp"

namespace epollchat::cluster {

using chat::NodeLinkHandler;
using chat::NodeMessage;
using chat::NodeMessageKind;

// A node id for a node not given one: 4 random hex digits.
[[nodiscard]] std::string random_node_id();

// Who the node logs in to Redis as. No password: no AUTH at all. No user: Redis's default
// user (AUTH password, as with requirepass).
struct RedisLogin {
  std::string user;
  std::string password;
};

class ClusterLink final : public chat::NodeLink, RedisConnectionHandler {
 public:
  static constexpr std::string_view kPresenceChannel = "epollchat:presence";
  static constexpr std::string_view kRoomChannelPrefix = "epollchat:room:";
  static constexpr std::string_view kWhisperChannelPrefix = "epollchat:whisper:";
  // Link format 1 carried everything here; nothing is published on it any more.
  static constexpr std::string_view kFormerChannel = "epollchat:events";
  // A room's recorded lines: a stream of at most about `history` entries (one per published
  // chat message, which may hold several lines), forgotten kHistoryTtl after the last one.
  static constexpr std::string_view kHistoryKeyPrefix = "epollchat:history:";
  static constexpr auto kHistoryTtl = std::chrono::hours(24 * 7);
  // The most a room's history may bring back at once.
  static constexpr std::size_t kMaxHistoryBytes = 4 * 1024 * 1024;
  static constexpr auto kReplyTimeout = std::chrono::seconds(5);
  static constexpr std::size_t kMaxUnansweredBytes = 4 * 1024 * 1024;
  // What presence events may use beyond kMaxUnansweredBytes.
  static constexpr std::size_t kPresenceReserveBytes = 1024 * 1024;

  // `instance`: the token of the process this one carries on from after a planned restart,
  // or "" for a fresh one.
  ClusterLink(EventLoop& loop, const Log& log, RedisAddress address, RedisLogin login,
              std::string node_id, std::string instance, NodeLinkHandler& handler);
  ~ClusterLink() override;

  void start() override;

  [[nodiscard]] State state() const noexcept override { return state_; }
  [[nodiscard]] const std::string& node_id() const noexcept override { return node_id_; }
  [[nodiscard]] const std::string& instance() const noexcept override { return instance_; }
  [[nodiscard]] std::uint64_t dropped() const noexcept override { return dropped_; }

  bool publish(NodeMessage message) override;
  void follow_room(std::string_view room, bool follow) override;
  void keep_history(std::size_t lines) override { history_lines_ = lines; }
  [[nodiscard]] bool is_catching_up(std::string_view room) const override {
    return catching_up_.contains(room);
  }
  // Claims are held for kNicknameTtl and refreshed by the server.
  std::uint64_t claim_nickname(std::string_view folded_nickname, std::string_view owner) override;
  void release_nickname(std::string_view folded_nickname, std::string_view owner) override;
  void say_goodbye() override;

 private:
  enum class Expect : std::uint8_t { ignore, auth, node_claim, nickname_claim, history };
  struct Unanswered {
    std::size_t bytes;
    CoarseTime sent;
    Expect expect;
    std::uint64_t request;
  };
  // A publication waiting for the subscriptions requested before it.
  struct Held {
    std::string channel;
    std::string payload;
    std::uint64_t after_request;
    bool recorded;
  };

  void connect();
  void fail(std::string_view why);
  void beat();
  // AUTH on both connections, if there is a password.
  void log_in();
  // Takes or refreshes epollchat:node:<id>; the answer goes to on_node_claim().
  void claim_node_id();
  // Subscribes after the first successful claim; drops the link if another process holds
  // the id.
  void on_node_claim(const redisReply& reply);
  // Redis said no to a command the link cannot work without: drops the link, quoting it.
  void on_refusal(std::string_view what, const redisReply& reply);
  bool send(RedisConnection& connection, std::initializer_list<std::string_view> arguments,
            Expect expect = Expect::ignore, std::uint64_t request = 0);
  void on_subscriber_message(const redisReply& reply);
  void on_channel_message(std::string_view channel, std::string_view payload);
  // The history message this node asked for: passed on, decoded.
  void on_history(const NodeMessage& history);
  // PUBLISH, and with `recorded` also the line's entry in the room's history, in one
  // transaction, so the history's order is the channel's.
  void send_publication(std::string_view channel, std::string_view payload, bool recorded);
  // Asks for the history of a room that catches up, now that this node receives the room.
  void fetch_history(std::string_view room);
  // Sends what the subscriptions asked for about `channel`.
  void send_subscription(ChannelSubscriptions::Command command, std::string_view channel);
  // Subscribes to every channel followed: the link's first step after the node id is held.
  void subscribe_all();
  // Publishes the held publications whose subscriptions are in effect (all of them, with
  // `all`: the goodbye).
  void release_held(bool all = false);
  // Logs a message of another link format (at most once a minute per node).
  void refuse_format(std::string_view payload);
  [[nodiscard]] std::string channel_of(const NodeMessage& message) const;
  // After a reply: once presence was lost and the link has room again, ask for a roster.
  void check_presence_repair();

  void on_redis_connected(RedisConnection& connection) override;
  void on_redis_disconnected(RedisConnection& connection, std::string_view why) override;
  void on_redis_reply(RedisConnection& connection, const redisReply& reply) override;

  const Log& log_;
  RedisAddress address_;
  RedisLogin login_;
  std::string node_id_;
  std::string instance_;
  std::string node_key_;
  NodeLinkHandler& handler_;
  RedisConnection publisher_;
  RedisConnection subscriber_;
  Timer beat_timer_;
  Timer retry_timer_;
  std::mt19937_64 random_;
  State state_ = State::connecting;
  bool announced_down_ = false;
  // AUTH was sent on the subscriber connection and its reply is the next one there.
  bool subscriber_authenticating_ = false;
  std::chrono::milliseconds backoff_;
  std::deque<Unanswered> unanswered_;
  std::size_t unanswered_bytes_ = 0;
  ChannelSubscriptions subscriptions_;
  std::deque<Held> held_;
  std::size_t held_bytes_ = 0;
  std::size_t history_lines_ = 0;
  // Rooms catching up, with the request of their history (0: not asked yet).
  std::map<std::string, std::uint64_t, std::less<>> catching_up_;
  CoarseTime own_beat_seen_;
  std::uint64_t next_request_ = 1;
  std::uint64_t dropped_ = 0;
  bool warned_dropping_ = false;
  bool presence_lost_ = false;
  RepeatedLog refused_log_;
  KeyedRepeatedLog format_log_;
};

}  // namespace epollchat::cluster
