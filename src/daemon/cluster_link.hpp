// ClusterLink: this node's link to the others, through Redis pub/sub.
//
// Owns: two Redis connections (one publishes and runs commands, one only subscribes, as
// Redis requires), the link state, the heartbeat and reconnect timers, and the record of
// commands sent but not yet answered.
// Never: knows sessions or rooms; blocks; lets Redis grow this process's memory without
// bound: at most kMaxUnansweredBytes of commands may wait for Redis, later messages are
// dropped and counted. Delivery is at-most-once: what is published while the link is down
// is lost, never replayed.
// Lifetime: owned by the Server; the handler (the Server) outlives it.
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
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>

#include "core/event_loop.hpp"
#include "core/timer.hpp"
#include "daemon/cluster_message.hpp"
#include "daemon/log.hpp"
#include "daemon/redis_address.hpp"
#include "daemon/redis_connection.hpp"

namespace epollchat::daemon {

// A node id for a node not given one: 4 random hex digits.
[[nodiscard]] std::string random_node_id();

// Who the node logs in to Redis as. No password: no AUTH at all. No user: Redis's default
// user (AUTH password, as with requirepass).
struct RedisLogin {
  std::string user;
  std::string password;
};

class ClusterLinkHandler {
 public:
  // The link is (again) up: subscribed and answering.
  virtual void on_link_up() = 0;
  // The link went down, or the first attempt failed.
  virtual void on_link_down() = 0;
  // A valid message from another process (never this one's own).
  virtual void on_cluster_message(const ClusterMessage& message) = 0;
  // Once per heartbeat (1 s) while up.
  virtual void on_link_beat() = 0;
  // The answer to claim_nickname(): `claimed` false if a live client elsewhere holds it.
  virtual void on_nickname_claim(std::uint64_t request, bool claimed) = 0;

 protected:
  ~ClusterLinkHandler() = default;
};

class ClusterLink final : RedisConnectionHandler {
 public:
  enum class State : std::uint8_t { connecting, up, down };

  static constexpr std::string_view kChannel = "epollchat:events";
  static constexpr auto kBeatInterval = std::chrono::seconds(1);
  static constexpr auto kNodeTtl = std::chrono::seconds(5);
  static constexpr auto kReplyTimeout = std::chrono::seconds(5);
  static constexpr auto kNicknameTtl = std::chrono::seconds(60);
  static constexpr std::size_t kMaxUnansweredBytes = 4 * 1024 * 1024;

  ClusterLink(EventLoop& loop, const Log& log, RedisAddress address, RedisLogin login,
              std::string node_id, ClusterLinkHandler& handler);
  ~ClusterLink();
  ClusterLink(const ClusterLink&) = delete;
  ClusterLink& operator=(const ClusterLink&) = delete;

  void start();

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] bool is_up() const noexcept { return state_ == State::up; }
  [[nodiscard]] const std::string& node_id() const noexcept { return node_id_; }
  [[nodiscard]] const std::string& instance() const noexcept { return instance_; }
  // Messages not sent because the unanswered commands were over kMaxUnansweredBytes.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

  // Publishes a message of this node (instance and node are filled in). Dropped while the
  // link is down, and counted if over the cap.
  void publish(ClusterMessage message);

  // Claims (or refreshes) a nickname for `owner` (a client of this node, "<node>:<id>")
  // for kNicknameTtl. Returns the request number on_nickname_claim() will report, or 0 if
  // the link is down (then nobody can be asked).
  std::uint64_t claim_nickname(std::string_view folded_nickname, std::string_view owner);
  // Frees a nickname if `owner` still holds it.
  void release_nickname(std::string_view folded_nickname, std::string_view owner);

  // Says goodbye (bye message, node key deleted) and writes it out now: shutdown.
  void say_goodbye();

 private:
  enum class Expect : std::uint8_t { ignore, auth, node_claim, nickname_claim };
  struct Unanswered {
    std::size_t bytes;
    std::int64_t sent_ns;
    Expect expect;
    std::uint64_t request;
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

  void on_redis_connected(RedisConnection& connection) override;
  void on_redis_disconnected(RedisConnection& connection, std::string_view why) override;
  void on_redis_reply(RedisConnection& connection, const redisReply& reply) override;

  const Log& log_;
  RedisAddress address_;
  RedisLogin login_;
  std::string node_id_;
  std::string instance_;
  std::string node_key_;
  ClusterLinkHandler& handler_;
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
  std::int64_t own_beat_seen_ns_ = 0;
  std::uint64_t next_request_ = 1;
  std::uint64_t dropped_ = 0;
  bool warned_dropping_ = false;
};

}  // namespace epollchat::daemon
