// FakeLink: the link to other nodes as the chat server sees it, without a Redis. The test
// (or the fuzzer) says when it goes up or down, answers nickname claims, and hands the
// server messages from other nodes; everything the server publishes is recorded.
//
// Owns: copies of what was published, the claims not yet answered, the releases asked for.
// Never: does I/O, or calls its handler except when told to.
// Lifetime: made by the factory given to Server::link_to_other_nodes() and owned by the
// server from then on; whoever keeps a pointer to it must not use it after the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chat/node_link.hpp"
#include "chat/node_message.hpp"

namespace epollchat::test {

class FakeLink final : public chat::NodeLink {
 public:
  // A published message with its text fields copied (the server's views die with the call).
  struct Published {
    chat::NodeMessageKind kind = chat::NodeMessageKind::beat;
    std::uint64_t id = 0;
    std::string room;
    std::string name;
    std::string old_name;
    std::string target_node;
    std::uint64_t target_id = 0;
    std::string target_instance;
    std::string text;
    // How many changes of the rooms followed came before it (see follow_log()).
    std::size_t follow_changes_before = 0;
  };
  struct Claim {
    std::uint64_t request = 0;
    std::string nickname;  // folded to lower case by the server
    std::string owner;     // "<node>:<id>"
  };
  struct Release {
    std::string nickname;
    std::string owner;
  };

  static constexpr std::string_view kNodeId = "a";
  static constexpr std::string_view kInstance = "0123456789abcdef";

  explicit FakeLink(chat::NodeLinkHandler& handler) : handler_(handler) {}

  void start() override {}
  [[nodiscard]] State state() const noexcept override { return state_; }
  [[nodiscard]] const std::string& node_id() const noexcept override { return node_id_; }
  [[nodiscard]] const std::string& instance() const noexcept override { return instance_; }
  [[nodiscard]] std::uint64_t dropped() const noexcept override { return dropped_; }

  // Nothing is sent while the link is not up; over its limit, everything is dropped (a real
  // link keeps a reserve for presence, which the server cannot tell apart from this).
  bool publish(chat::NodeMessage message) override {
    if (state_ != State::up) return false;
    if (over_limit_) {
      ++dropped_;
      return false;
    }
    published_.push_back(Published{
        message.kind, message.id, std::string(message.room), std::string(message.name),
        std::string(message.old_name), std::string(message.target_node), message.target_id,
        std::string(message.target_instance), std::string(message.text), follow_log_.size()});
    return true;
  }
  // As a real link does, a room followed afresh while the link is up and histories are kept
  // catches up until deliver_history().
  void follow_room(std::string_view room, bool follow) override {
    const auto found = followed_.find(room);
    if (follow == (found != followed_.end())) return;
    if (follow && state_ == State::up && history_lines_ != 0) catching_up_.emplace(room);
    if (!follow) set_catching_up(room, false);
    follow_log_.push_back((follow ? "+" : "-") + std::string(room));
    if (follow) {
      followed_.emplace(room);
    } else {
      followed_.erase(found);
    }
  }
  void keep_history(std::size_t lines) override { history_lines_ = lines; }
  [[nodiscard]] bool is_catching_up(std::string_view room) const override {
    return catching_up_.contains(room);
  }
  std::uint64_t claim_nickname(std::string_view folded_nickname, std::string_view owner) override {
    if (state_ != State::up) return 0;
    claims_.push_back(Claim{next_request_, std::string(folded_nickname), std::string(owner)});
    return next_request_++;
  }
  void release_nickname(std::string_view folded_nickname, std::string_view owner) override {
    releases_.push_back(Release{std::string(folded_nickname), std::string(owner)});
  }
  void say_goodbye() override {}

  // The link comes up (again); nothing happens if it is up.
  void go_up() {
    if (state_ == State::up) return;
    state_ = State::up;
    handler_.on_link_up();
  }
  // The link goes down, or its first attempt fails; claims in flight get no answer. Nothing
  // happens if it is down already (a real link reports an outage once, not every retry).
  void go_down() {
    if (state_ == State::down) return;
    state_ = State::down;
    claims_.clear();
    catching_up_.clear();
    handler_.on_link_down();
  }
  // Answers the oldest claim not yet answered; false if there is none.
  bool answer_claim(bool claimed) {
    if (claims_.empty()) return false;
    const std::uint64_t request = claims_.front().request;
    claims_.erase(claims_.begin());
    handler_.on_nickname_claim(request, claimed);
    return true;
  }
  void answer_all_claims() {
    while (answer_claim(true)) {
    }
  }
  // The room catches up (as a real link makes it when it is followed afresh) or stops.
  void set_catching_up(std::string_view room, bool catching_up) {
    if (catching_up) {
      catching_up_.emplace(room);
    } else if (const auto found = catching_up_.find(room); found != catching_up_.end()) {
      catching_up_.erase(found);
    }
  }
  [[nodiscard]] std::size_t history_lines() const noexcept { return history_lines_; }
  // The history of a room that catches up comes in (or, with `available` false, cannot).
  void deliver_history(std::string_view room, const std::vector<chat::RecordedLine>& lines,
                       bool available = true) {
    set_catching_up(room, false);
    handler_.on_room_history(room, lines, available);
  }
  // A message of another node reaches this one.
  void deliver(const chat::NodeMessage& message) { handler_.on_node_message(message); }
  void set_over_limit(bool over) { over_limit_ = over; }

  [[nodiscard]] chat::NodeLinkHandler& handler() noexcept { return handler_; }
  [[nodiscard]] const std::vector<Published>& published() const noexcept { return published_; }
  void forget_published() { published_.clear(); }
  // Published messages of one kind, in order.
  [[nodiscard]] std::vector<Published> published(chat::NodeMessageKind kind) const {
    std::vector<Published> found;
    for (const Published& message : published_) {
      if (message.kind == kind) found.push_back(message);
    }
    return found;
  }
  [[nodiscard]] const std::vector<Claim>& claims() const noexcept { return claims_; }
  // Each change of the rooms followed, in order: "+room" or "-room".
  [[nodiscard]] const std::vector<std::string>& follow_log() const noexcept { return follow_log_; }
  // The rooms the server follows now.
  [[nodiscard]] const std::set<std::string, std::less<>>& followed() const noexcept {
    return followed_;
  }
  [[nodiscard]] const std::vector<Release>& releases() const noexcept { return releases_; }

 private:
  chat::NodeLinkHandler& handler_;
  State state_ = State::connecting;
  std::string node_id_{kNodeId};
  std::string instance_{kInstance};
  std::vector<Published> published_;
  std::vector<Claim> claims_;
  std::vector<Release> releases_;
  std::set<std::string, std::less<>> followed_;
  std::vector<std::string> follow_log_;
  std::set<std::string, std::less<>> catching_up_;
  std::size_t history_lines_ = 0;
  std::uint64_t next_request_ = 1;
  std::uint64_t dropped_ = 0;
  bool over_limit_ = false;
};

}  // namespace epollchat::test
