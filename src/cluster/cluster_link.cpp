#include "cluster/cluster_link.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdio>

#include "cluster/message_codec.hpp"
#include "core/clock.hpp"

namespace epollchat::cluster {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr auto kFirstBackoff = milliseconds(250);
// Nodes of another link format remembered for the once-a-minute warning.
constexpr std::size_t kRefusedNodesRemembered = 64;
constexpr auto kMaxBackoff = milliseconds(4000);

// Takes a nickname for ARGV[1] ("<instance> <node>:<id>") or refreshes it; someone else's
// claim is respected only while that node's key still names the instance that made it, so
// the nicknames of a node that died are free as soon as the node is forgotten (5 s), not
// when their own, longer TTL runs out. 1: the caller holds it now; 0: taken.
constexpr std::string_view kClaimScript = R"lua(
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then
  local instance, node = string.match(owner, '^(%x+) ([%w]+):')
  if instance and redis.call('GET', 'epollchat:node:' .. node) == instance then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
)lua";

// Takes or refreshes the node key for ARGV[1] (this process's instance token). 0: another
// running process holds the same node id, and a second node under one id would blur ids and
// nickname ownership, so this one stays off the link until the key is free.
constexpr std::string_view kNodeClaimScript = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
)lua";

// Publishes on ARGV[1] a history message of the room whose stream is KEYS[1]: ARGV[2] is the
// message's head, then its last ARGV[3] entries (at most ARGV[4] bytes of them), oldest first,
// as "<ms> <length>\n<message>". Being one script, it reads the stream at one point of the
// order in which Redis runs commands, and the message reaches the asking node exactly between
// the room's lines that are in it and those that are not.
constexpr std::string_view kHistoryScript = R"lua(
local entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[3])
local parts, bytes = {}, 0
for i = 1, #entries do
  local fields = entries[i][2]
  local message = fields[2]
  if fields[1] == 'm' and message then
    bytes = bytes + #message
    if bytes > tonumber(ARGV[4]) then break end
    parts[#parts + 1] = string.match(entries[i][1], '^%d+') .. ' ' .. #message .. '\n' .. message
  end
end
local oldest_first = {}
for i = #parts, 1, -1 do oldest_first[#oldest_first + 1] = parts[i] end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. table.concat(oldest_first))
return #parts
)lua";

// Deletes KEYS[1] only while it still holds ARGV[1]: a key is released by its owner only.
constexpr std::string_view kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::string random_hex(std::mt19937_64& random, std::size_t digits) {
  std::string out;
  while (out.size() < digits) {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(random()));
    out += buffer;
  }
  out.resize(digits);
  return out;
}

std::mt19937_64 seeded_random() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device()};
  return std::mt19937_64(seed);
}

// Kinds that are never held back: tiny (heartbeat, sync, goodbye), or the repair of what
// was held back (a roster, sent only when the link has room again).
bool is_never_held_back(NodeMessageKind kind) {
  return kind == NodeMessageKind::beat || kind == NodeMessageKind::sync ||
         kind == NodeMessageKind::bye || kind == NodeMessageKind::roster;
}

bool is_presence(NodeMessageKind kind) {
  return kind == NodeMessageKind::join || kind == NodeMessageKind::leave ||
         kind == NodeMessageKind::rename;
}

std::string_view element_text(const redisReply& reply, std::size_t index) {
  if (reply.type != REDIS_REPLY_ARRAY || index >= reply.elements) return {};
  const redisReply* element = reply.element[index];
  if (element == nullptr || element->type != REDIS_REPLY_STRING) return {};
  return {element->str, element->len};
}

}  // namespace

std::string random_node_id() {
  auto random = seeded_random();
  return random_hex(random, 4);
}

ClusterLink::ClusterLink(EventLoop& loop, const Log& log, RedisAddress address, RedisLogin login,
                         std::string node_id, std::string instance, NodeLinkHandler& handler)
    : log_(log),
      address_(std::move(address)),
      login_(std::move(login)),
      node_id_(std::move(node_id)),
      handler_(handler),
      publisher_(loop, *this),
      subscriber_(loop, *this),
      beat_timer_(loop, [this] { beat(); }),
      retry_timer_(
          loop,
          [this] {
            if (state_ == State::up) return;
            if (publisher_.is_open() || subscriber_.is_open()) {
              fail("no answer within " +
                   std::to_string(duration_cast<std::chrono::seconds>(kReplyTimeout).count()) +
                   " s");
            } else {
              connect();
            }
          }),
      random_(seeded_random()),
      backoff_(kFirstBackoff),
      refused_log_(log, LogLevel::warning),
      format_log_(log, LogLevel::warning, kRefusedNodesRemembered) {
  instance_ =
      instance.empty() ? random_hex(random_, chat::kInstanceTokenLength) : std::move(instance);
  node_key_ = "epollchat:node:" + node_id_;
  // Not connected yet: these only note what to subscribe to.
  for (const std::string& channel :
       {std::string(kPresenceChannel), std::string(kWhisperChannelPrefix) + node_id_,
        std::string(kFormerChannel)}) {
    send_subscription(subscriptions_.follow(channel), channel);
  }
}

ClusterLink::~ClusterLink() {
  publisher_.close();
  subscriber_.close();
}

void ClusterLink::start() { connect(); }

void ClusterLink::connect() {
  log_.debug("link to Redis at " + address_.to_string() + ": connecting");
  subscriber_authenticating_ = false;
  std::string error;
  if (!publisher_.connect(address_, error) || !subscriber_.connect(address_, error)) {
    fail(error);
    return;
  }
  // Also the connect timeout: if the link is not up by then, the attempt is dropped.
  retry_timer_.arm(duration_cast<microseconds>(kReplyTimeout));
}

void ClusterLink::fail(std::string_view why) {
  const bool was_up = state_ == State::up;
  publisher_.close();
  subscriber_.close();
  unanswered_.clear();
  unanswered_bytes_ = 0;
  subscriptions_.end_connection();
  held_.clear();
  held_bytes_ = 0;
  catching_up_.clear();
  presence_lost_ = false;
  beat_timer_.disarm();
  state_ = State::down;
  const auto wait = duration_cast<milliseconds>(
      backoff_ * std::uniform_real_distribution<double>(0.5, 1.0)(random_));
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  retry_timer_.arm(duration_cast<microseconds>(wait));
  if (was_up || !announced_down_) {
    announced_down_ = true;
    log_.warning("link to Redis at " + address_.to_string() + " " +
                 (was_up ? "lost" : "not available") + ": " + std::string(why) +
                 "; chatting locally, retrying");
    handler_.on_link_down();
  } else {
    log_.debug("link to Redis at " + address_.to_string() + ": " + std::string(why));
  }
}

bool ClusterLink::send(RedisConnection& connection,
                       std::initializer_list<std::string_view> arguments, Expect expect,
                       std::uint64_t request) {
  std::size_t bytes = 16;
  for (const std::string_view argument : arguments) bytes += argument.size() + 16;
  if (!connection.command({arguments.begin(), arguments.size()})) return false;
  if (&connection == &publisher_) {
    unanswered_.push_back({bytes, coarse_now(), expect, request});
    unanswered_bytes_ += bytes;
  }
  return true;
}

bool ClusterLink::publish(NodeMessage message) {
  if (state_ != State::up) return false;
  message.instance = instance_;
  message.node = node_id_;
  const std::string payload = encode_node_message(message);
  const bool presence = is_presence(message.kind);
  const std::size_t limit = kMaxUnansweredBytes + (presence ? kPresenceReserveBytes : 0);
  if (!is_never_held_back(message.kind) &&
      unanswered_bytes_ + held_bytes_ + payload.size() > limit) {
    ++dropped_;
    if (presence) presence_lost_ = true;
    if (!warned_dropping_) {
      warned_dropping_ = true;
      log_.warning("Redis is not keeping up: over " + std::to_string(kMaxUnansweredBytes) +
                   " bytes unanswered; dropping chat to other nodes");
    }
    return false;
  }
  std::string channel = channel_of(message);
  const bool recorded = history_lines_ != 0 && (message.kind == NodeMessageKind::chat ||
                                                message.kind == NodeMessageKind::action);
  release_held();
  if (!held_.empty() || !subscriptions_.is_settled()) {
    // A subscription asked for earlier (a room this node's client just entered) is not in
    // effect yet: publishing now could let others answer before this node hears them.
    held_bytes_ += payload.size();
    held_.push_back({std::move(channel), payload, subscriptions_.requested(), recorded});
    return true;
  }
  send_publication(channel, payload, recorded);
  return true;
}

void ClusterLink::send_publication(std::string_view channel, std::string_view payload,
                                   bool recorded) {
  if (!recorded) {
    send(publisher_, {"PUBLISH", channel, payload});
    return;
  }
  const std::string key =
      std::string(kHistoryKeyPrefix).append(channel.substr(kRoomChannelPrefix.size()));
  const std::string lines = std::to_string(history_lines_);
  const std::string ttl =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kHistoryTtl).count());
  send(publisher_, {"MULTI"});
  send(publisher_, {"XADD", key, "MAXLEN", "~", lines, "*", "m", payload});
  send(publisher_, {"EXPIRE", key, ttl});
  send(publisher_, {"PUBLISH", channel, payload});
  send(publisher_, {"EXEC"});
}

void ClusterLink::fetch_history(std::string_view room) {
  const auto catching_up = catching_up_.find(room);
  if (catching_up == catching_up_.end() || catching_up->second != 0) return;
  catching_up->second = next_request_++;
  NodeMessage head = node_message(NodeMessageKind::history);
  head.instance = instance_;
  head.node = node_id_;
  head.id = catching_up->second;
  head.room = room;
  const std::string key = std::string(kHistoryKeyPrefix).append(room);
  send(
      publisher_,
      {"EVAL", kHistoryScript, "1", key, std::string(kWhisperChannelPrefix) + node_id_,
       encode_node_message(head), std::to_string(history_lines_), std::to_string(kMaxHistoryBytes)},
      Expect::history, catching_up->second);
}

std::string ClusterLink::channel_of(const NodeMessage& message) const {
  switch (message.kind) {
    case NodeMessageKind::chat:
    case NodeMessageKind::action:
      return std::string(kRoomChannelPrefix).append(message.room);
    case NodeMessageKind::whisper:
      return std::string(kWhisperChannelPrefix).append(message.target_node);
    default:
      return std::string(kPresenceChannel);
  }
}

void ClusterLink::release_held(bool all) {
  while (!held_.empty() && (all || held_.front().after_request <= subscriptions_.confirmed())) {
    const Held& held = held_.front();
    send_publication(held.channel, held.payload, held.recorded);
    held_bytes_ -= held.payload.size();
    held_.pop_front();
  }
}

void ClusterLink::follow_room(std::string_view room, bool follow) {
  const std::string channel = std::string(kRoomChannelPrefix).append(room);
  const bool afresh = follow && !subscriptions_.is_wanted(channel);
  send_subscription(follow ? subscriptions_.follow(channel) : subscriptions_.unfollow(channel),
                    channel);
  if (!follow) {
    if (const auto catching_up = catching_up_.find(room); catching_up != catching_up_.end()) {
      catching_up_.erase(catching_up);
    }
  } else if (afresh && history_lines_ != 0 && state_ == State::up) {
    // Whatever this node recorded of the room is stale: what the others said while it was
    // not listening is in Redis. Asked for once the subscription is in effect.
    catching_up_.emplace(room, 0);
  }
}

void ClusterLink::send_subscription(ChannelSubscriptions::Command command,
                                    std::string_view channel) {
  switch (command) {
    case ChannelSubscriptions::Command::none:
      return;
    case ChannelSubscriptions::Command::subscribe:
      send(subscriber_, {"SUBSCRIBE", channel});
      return;
    case ChannelSubscriptions::Command::unsubscribe:
      send(subscriber_, {"UNSUBSCRIBE", channel});
      return;
  }
}

void ClusterLink::subscribe_all() {
  const std::vector<std::string> channels = subscriptions_.begin_connection();
  std::vector<std::string_view> arguments{"SUBSCRIBE"};
  arguments.insert(arguments.end(), channels.begin(), channels.end());
  subscriber_.command(arguments);
}

void ClusterLink::check_presence_repair() {
  if (!presence_lost_ || state_ != State::up || unanswered_bytes_ >= kMaxUnansweredBytes / 2) {
    return;
  }
  presence_lost_ = false;
  handler_.on_presence_lost();
}

std::uint64_t ClusterLink::claim_nickname(std::string_view folded_nickname,
                                          std::string_view owner) {
  if (state_ != State::up) return 0;
  const std::uint64_t request = next_request_++;
  const std::string key = "epollchat:nick:" + std::string(folded_nickname);
  const std::string value = instance_ + " " + std::string(owner);
  const std::string ttl = std::to_string(duration_cast<std::chrono::seconds>(kNicknameTtl).count());
  if (!send(publisher_, {"EVAL", kClaimScript, "1", key, value, ttl}, Expect::nickname_claim,
            request)) {
    return 0;
  }
  return request;
}

void ClusterLink::release_nickname(std::string_view folded_nickname, std::string_view owner) {
  if (state_ != State::up) return;
  const std::string key = "epollchat:nick:" + std::string(folded_nickname);
  const std::string value = instance_ + " " + std::string(owner);
  send(publisher_, {"EVAL", kReleaseScript, "1", key, value});
}

void ClusterLink::say_goodbye() {
  if (state_ != State::up) return;
  publish(node_message(NodeMessageKind::bye));
  release_held(true);
  send(publisher_, {"EVAL", kReleaseScript, "1", node_key_, instance_});
  publisher_.flush_now();
}

void ClusterLink::beat() {
  if (state_ != State::up) return;
  const CoarseTime now = coarse_now();
  if ((!unanswered_.empty() && now - unanswered_.front().sent > kReplyTimeout) ||
      now - own_beat_seen_ > kReplyTimeout) {
    fail("no answer for " +
         std::to_string(duration_cast<std::chrono::seconds>(kReplyTimeout).count()) + " s");
    return;
  }
  claim_node_id();
  publish(node_message(NodeMessageKind::beat));
  handler_.on_link_beat();
}

void ClusterLink::on_redis_connected(RedisConnection& /*connection*/) {
  if (!publisher_.is_connected() || !subscriber_.is_connected()) return;
  log_.debug("link to Redis at " + address_.to_string() + ": connected, claiming node id " +
             node_id_);
  log_in();
  // The node key first: nickname claims of this node's clients are checked against it, and
  // only a node that holds its id may join the others (SUBSCRIBE follows the claim's reply).
  claim_node_id();
}

void ClusterLink::log_in() {
  if (login_.password.empty()) return;
  // Commands are pipelined: with a wrong password, what follows AUTH is refused as well, and
  // the AUTH reply, which comes first, says why.
  if (login_.user.empty()) {
    send(publisher_, {"AUTH", login_.password}, Expect::auth);
    send(subscriber_, {"AUTH", login_.password});
  } else {
    send(publisher_, {"AUTH", login_.user, login_.password}, Expect::auth);
    send(subscriber_, {"AUTH", login_.user, login_.password});
  }
  subscriber_authenticating_ = true;
}

void ClusterLink::claim_node_id() {
  const std::string ttl = std::to_string(duration_cast<std::chrono::seconds>(kNodeTtl).count());
  send(publisher_, {"EVAL", kNodeClaimScript, "1", node_key_, instance_, ttl}, Expect::node_claim);
}

void ClusterLink::on_refusal(std::string_view what, const redisReply& reply) {
  std::string_view answer = reply.type == REDIS_REPLY_ERROR && reply.str != nullptr
                                ? std::string_view(reply.str, reply.len)
                                : std::string_view("an unexpected reply");
  // Redis ends some errors with a full stop; the log line goes on after it.
  if (answer.ends_with('.')) answer.remove_suffix(1);
  fail("Redis refused " + std::string(what) + ": " + std::string(answer));
}

void ClusterLink::on_node_claim(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_INTEGER) {
    on_refusal("to claim node id " + node_id_, reply);
    return;
  }
  if (reply.integer != 1) {
    fail("node id " + node_id_ +
         " is held by another running epollchatd; give each node its own node-id");
    return;
  }
  if (state_ != State::up && !subscriptions_.is_connected()) subscribe_all();
}

void ClusterLink::on_redis_disconnected(RedisConnection& /*connection*/, std::string_view why) {
  fail(why);
}

void ClusterLink::on_redis_reply(RedisConnection& connection, const redisReply& reply) {
  if (&connection == &subscriber_) {
    on_subscriber_message(reply);
    return;
  }
  if (unanswered_.empty()) return;
  const Unanswered answered = unanswered_.front();
  unanswered_.pop_front();
  unanswered_bytes_ -= answered.bytes;
  if (unanswered_bytes_ < kMaxUnansweredBytes / 2) warned_dropping_ = false;
  if (answered.expect == Expect::auth) {
    if (reply.type == REDIS_REPLY_ERROR) on_refusal("the password", reply);
    return;
  }
  if (answered.expect == Expect::node_claim) {
    on_node_claim(reply);
    return;
  }
  if (reply.type == REDIS_REPLY_ERROR) {
    refused_log_.write("Redis refused a command: " + std::string(reply.str, reply.len));
  }
  if (answered.expect == Expect::history && reply.type == REDIS_REPLY_ERROR) {
    for (auto catching_up = catching_up_.begin(); catching_up != catching_up_.end();
         ++catching_up) {
      if (catching_up->second != answered.request) continue;
      const std::string room = catching_up->first;
      catching_up_.erase(catching_up);
      handler_.on_room_history(room, {}, false);
      break;
    }
  }
  if (answered.expect == Expect::nickname_claim) {
    handler_.on_nickname_claim(answered.request,
                               reply.type == REDIS_REPLY_INTEGER && reply.integer == 1);
  }
  check_presence_repair();
}

void ClusterLink::on_subscriber_message(const redisReply& reply) {
  if (subscriber_authenticating_) {
    subscriber_authenticating_ = false;
    if (reply.type == REDIS_REPLY_ERROR) on_refusal("the password", reply);
    return;
  }
  if (reply.type == REDIS_REPLY_ERROR) {
    on_refusal("the subscription", reply);
    return;
  }
  const std::string_view kind = element_text(reply, 0);
  const std::string_view channel = element_text(reply, 1);
  if (kind == "message") {
    on_channel_message(channel, element_text(reply, 2));
    return;
  }
  if (kind == "subscribe") {
    send_subscription(subscriptions_.on_subscribed(channel), channel);
    if (!catching_up_.empty() && channel.starts_with(kRoomChannelPrefix) &&
        subscriptions_.phase(channel) == ChannelSubscriptions::Phase::subscribed) {
      // Before what was held for this subscription: the history is read before this node's
      // own next lines are recorded.
      fetch_history(channel.substr(kRoomChannelPrefix.size()));
    }
  } else if (kind == "unsubscribe") {
    send_subscription(subscriptions_.on_unsubscribed(channel), channel);
  } else {
    return;
  }
  if (state_ != State::up && subscriptions_.is_settled()) {
    state_ = State::up;
    announced_down_ = false;
    backoff_ = kFirstBackoff;
    retry_timer_.disarm();
    own_beat_seen_ = coarse_now();
    beat_timer_.arm(duration_cast<microseconds>(kBeatInterval),
                    duration_cast<microseconds>(kBeatInterval));
    log_.notice("link to Redis at " + address_.to_string() + " up (node " + node_id_ + ")");
    handler_.on_link_up();
  }
  release_held();
}

void ClusterLink::on_channel_message(std::string_view channel, std::string_view payload) {
  if (channel == kFormerChannel) {
    refuse_format(payload);
    return;
  }
  if (channel.starts_with(kRoomChannelPrefix) &&
      subscriptions_.phase(channel) != ChannelSubscriptions::Phase::subscribed) {
    // Still on its way from a subscription this node has since let go of: the clients who
    // entered again hear the room from the renewed subscription on, not from the end of
    // the old one, or they would miss what lies between.
    return;
  }
  const auto message = decode_node_message(payload);
  if (!message) {
    if (const auto header = read_link_header(payload); header && header->format != kLinkFormat) {
      refuse_format(payload);
    } else {
      log_.debug("ignored a malformed message on " + std::string(channel));
    }
    return;
  }
  if (message->instance == instance_) {
    if (message->kind == NodeMessageKind::beat) own_beat_seen_ = coarse_now();
    if (message->kind == NodeMessageKind::history) on_history(*message);
    return;
  }
  // Histories are read for the node that asks, never sent.
  if (message->kind == NodeMessageKind::history) return;
  if (!catching_up_.empty() &&
      (message->kind == NodeMessageKind::chat || message->kind == NodeMessageKind::action) &&
      catching_up_.contains(message->room)) {
    // Said before the history was read: it is in the history.
    return;
  }
  if (message->node == node_id_) {
    // Not this process, yet under its id: a forgery, or a stale node; either way not a
    // peer whose clients this node could tell from its own.
    log_.debug("ignored a message on " + std::string(channel) + " that claims node " + node_id_ +
               " from another instance");
    return;
  }
  handler_.on_node_message(*message);
}

void ClusterLink::on_history(const NodeMessage& history) {
  // Only the answer awaited: an older one was read before this node received the room.
  const auto catching_up = catching_up_.find(history.room);
  if (catching_up == catching_up_.end() || catching_up->second != history.id) return;
  catching_up_.erase(catching_up);
  std::vector<chat::RecordedLine> lines;
  chat::for_each_history_entry(history.text, [&](const chat::HistoryEntry& entry) {
    const auto said = decode_node_message(entry.message);
    // Only chat and actions of that room are recorded; anything else was not put there by
    // a node of this format.
    if (!said || said->room != history.room ||
        (said->kind != NodeMessageKind::chat && said->kind != NodeMessageKind::action)) {
      return;
    }
    lines.push_back({entry.milliseconds, said->kind, said->name, said->text});
  });
  handler_.on_room_history(history.room, lines, true);
}

void ClusterLink::refuse_format(std::string_view payload) {
  const auto header = read_link_header(payload);
  if (!header || header->format == kLinkFormat) {
    log_.debug("ignored a malformed message of an earlier link format");
    return;
  }
  const std::string node(header->node);
  format_log_.write(node, "refusing node " + node + ": it speaks link format " +
                              std::to_string(header->format) + ", this node speaks " +
                              std::to_string(kLinkFormat) +
                              "; run one epollchatd version on every node");
}

}  // namespace epollchat::cluster
