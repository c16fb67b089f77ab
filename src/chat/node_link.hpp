// NodeLink: what the chat server needs from its link to the other nodes, and what the link
// tells it. ClusterLink implements it over Redis; the unit tests and the fuzzer use fakes,
// so the server's side of the link can be driven without a Redis.
//
// Owns: nothing here (an interface). Lifetime: the Server owns its link; the handler (the
// Server) outlives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "chat/node_message.hpp"

namespace epollchat::chat {

// A line of a room's history, as the link read it back.
struct RecordedLine {
  // When it was recorded: milliseconds since the epoch, by Redis's clock.
  std::uint64_t milliseconds = 0;
  // chat (text: one or more lines joined by LF) or action.
  NodeMessageKind kind = NodeMessageKind::chat;
  std::string_view name;
  std::string_view text;
};

class NodeLinkHandler {
 public:
  // The link is (again) up: subscribed and answering.
  virtual void on_link_up() = 0;
  // The link went down, or the first attempt failed.
  virtual void on_link_down() = 0;
  // A valid message from another node (never this one's own, nor one claiming its id).
  virtual void on_node_message(const NodeMessage& message) = 0;
  // A room that caught up (see NodeLink::keep_history): its lines as recorded when this node
  // began to receive it, oldest first; or, with `available` false, none: Redis refused to
  // read them. (If the link goes down first, on_link_down() says so.)
  virtual void on_room_history(std::string_view room, std::span<const RecordedLine> lines,
                               bool available) = 0;
  // Once per heartbeat (1 s) while up.
  virtual void on_link_beat() = 0;
  // The answer to claim_nickname(): `claimed` false if a live client elsewhere holds it.
  virtual void on_nickname_claim(std::uint64_t request, bool claimed) = 0;
  // Presence events were lost on the way out (the link was overloaded); now that it has
  // room again, the other nodes need this node's whole roster to repair their view.
  virtual void on_presence_lost() = 0;

 protected:
  ~NodeLinkHandler() = default;
};

class NodeLink {
 public:
  enum class State : std::uint8_t { connecting, up, down };

  // The pace every link keeps: a heartbeat (and on_link_beat()) this often while up; a node
  // not heard from for kNodeTtl is gone; a nickname claim not refreshed within kNicknameTtl
  // expires.
  static constexpr auto kBeatInterval = std::chrono::seconds(1);
  static constexpr auto kNodeTtl = std::chrono::seconds(5);
  static constexpr auto kNicknameTtl = std::chrono::seconds(60);

  virtual ~NodeLink() = default;

  virtual void start() = 0;
  [[nodiscard]] virtual State state() const noexcept = 0;
  [[nodiscard]] bool is_up() const noexcept { return state() == State::up; }
  [[nodiscard]] virtual const std::string& node_id() const noexcept = 0;
  // Random per process start.
  [[nodiscard]] virtual const std::string& instance() const noexcept = 0;
  // Messages not sent because the link was over its limit.
  [[nodiscard]] virtual std::uint64_t dropped() const noexcept = 0;

  // Publishes a message of this node (instance and node are filled in); false if it was
  // not sent. Chat, actions and whispers are dropped (and counted) while the link is over
  // its limit; presence (join, leave, rename) has a reserve beyond it, and if even that is
  // used up the handler later hears on_presence_lost(); heartbeats, rosters, syncs and the
  // goodbye are never held back. Nothing is sent while the link is not up.
  virtual bool publish(NodeMessage message) = 0;

  // Whether this node wants other nodes' chat in `room` (lower-case name): it does while it
  // has members there. Publications made after following a room wait until the link
  // receives it, so the others hear of a client's arrival only once its node hears them.
  // Kept across outages; repeating a wish changes nothing.
  virtual void follow_room(std::string_view room, bool follow) = 0;

  // How many lines each room's history keeps (0: none). With lines, chat and actions are
  // also recorded where every node can read them, and a room followed afresh while the link
  // is up catches up: until its history (as recorded when this node began to receive the
  // room) reaches the handler as a history message, the room's chat from other nodes is not
  // passed on (it is in that history), so nothing is missed or shown twice.
  virtual void keep_history(std::size_t lines) = 0;
  [[nodiscard]] virtual bool is_catching_up(std::string_view room) const = 0;

  // Claims (or refreshes) a nickname for `owner` (a client of this node, "<node>:<id>").
  // Returns the request number on_nickname_claim() will report, or 0 if the link is down.
  virtual std::uint64_t claim_nickname(std::string_view folded_nickname,
                                       std::string_view owner) = 0;
  // Frees a nickname if `owner` still holds it (nothing happens while the link is down).
  virtual void release_nickname(std::string_view folded_nickname, std::string_view owner) = 0;

  // Says goodbye (bye message, node key deleted) and writes it out now: shutdown.
  virtual void say_goodbye() = 0;

 protected:
  NodeLink() = default;
  NodeLink(const NodeLink&) = delete;
  NodeLink& operator=(const NodeLink&) = delete;
};

}  // namespace epollchat::chat
