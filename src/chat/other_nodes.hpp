// OtherNodes: the server's bridge to the other nodes of the chat — what it tells them of its
// own clients, and what it asks about theirs. A node on its own holds a LoneNode, which
// answers "nobody else" to everything; linked nodes hold a LinkedNodes (chat/linked_nodes.hpp)
// over a NodeLink. So the server never asks whether it has a link.
//
// Owns: nothing here (an interface). Lifetime: owned by the Server, after its sessions and
// rooms are declared, so it may hold references to them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::chat {

class Room;
class Session;

class OtherNodes {
 public:
  virtual ~OtherNodes() = default;

  // "" on a node on its own; else the id in "Client #<node>:<id>".
  [[nodiscard]] virtual const std::string& node_id() const noexcept = 0;
  // "" on a node on its own; else this process's token on the link, which a planned
  // restart hands on so that the other nodes see the same node carry on.
  [[nodiscard]] virtual const std::string& instance() const noexcept = 0;
  // "; link up (3 nodes)" and the like for STATUS=, or "".
  [[nodiscard]] virtual std::string status() const = 0;
  // Whether lines said here are passed on now (the link is up).
  [[nodiscard]] virtual bool are_reachable() const noexcept = 0;
  // Whether this node cannot yet tell who is elsewhere (its link just came up and the other
  // nodes' rosters are not all in): nobody is told they are alone meanwhile.
  [[nodiscard]] virtual bool are_catching_up() const noexcept = 0;

  // Their members of `room` (by its lower-case name), their names in `room` appended to
  // `names`, their member counts added to `counts` per room.
  [[nodiscard]] virtual std::size_t members_in(std::string_view room) const = 0;
  virtual void add_names_in(std::string_view room, std::vector<std::string_view>& names) const = 0;
  virtual void add_room_counts(std::map<std::string_view, std::size_t>& counts) const = 0;
  // Whether one of their clients goes by `nickname` (in any case).
  [[nodiscard]] virtual bool hold_nickname(std::string_view nickname) const = 0;
  // The nickname a /nick of the session asked the others for, while they have not answered.
  [[nodiscard]] virtual std::optional<std::string> nickname_in_claim(
      std::uint64_t session_id) const = 0;

  // What `session`, which just entered `room`, reads of the room's history first (at most
  // `max_bytes`): the history block, or "" if it comes later (the room is catching up with
  // what was said on other nodes) or there is none.
  [[nodiscard]] virtual std::string history_for(const Session& session, const Room& room,
                                                std::size_t max_bytes) = 0;
  // The `history` setting (lines per room) changed.
  virtual void keep_history(std::size_t lines) = 0;

  // Starts the link; writes the goodbye at shutdown.
  virtual void start() = 0;
  virtual void say_goodbye() = 0;
  // A client of this node connected: tell it what it should know about the others.
  virtual void greet(Session& session) = 0;

  // A client of this node is about to move to `room` (lower-case name), before it leaves its
  // room: the link follows the room first, so the others hear of the leave and the arrival
  // together, once this node receives the room.
  virtual void entering(std::string_view room) = 0;
  // What this node's clients do, passed on. Chat lines of one sender are collected until
  // end_of_batch().
  virtual void joined(const Session& session, const Room& room) = 0;
  virtual void left(const Session& session, const Room& room, std::string_view reason) = 0;
  virtual void renamed(const Session& session, const Room& room, std::string_view old_name) = 0;
  virtual void said(const Session& session, std::string_view text) = 0;
  virtual void acted(const Session& session, std::string_view action) = 0;
  virtual void end_of_batch() = 0;

  enum class Whisper : std::uint8_t { no_such_user, sent, not_sent };
  // Whispers `text` to `target` (a nickname or "#<node>:<id>") among their clients;
  // `recipient` gets the name it was sent (or not sent) to.
  virtual Whisper whisper(const Session& sender, std::string_view target, std::string_view text,
                          std::string& recipient) = 0;

  // Asks the others whether `nickname` is free for the session. True: the answer comes later
  // (Server::finish_nickname_change); false: nobody can be asked, this node decides alone.
  virtual bool claim_nickname(const Session& session, std::string_view nickname) = 0;
  // The session let go of `nickname` (renamed or left).
  virtual void released_nickname(const Session& session, std::string_view nickname) = 0;

 protected:
  OtherNodes() = default;
  OtherNodes(const OtherNodes&) = delete;
  OtherNodes& operator=(const OtherNodes&) = delete;
};

// A node on its own: nobody else, nothing to tell.
class LoneNode final : public OtherNodes {
 public:
  [[nodiscard]] const std::string& node_id() const noexcept override { return no_id_; }
  [[nodiscard]] const std::string& instance() const noexcept override { return no_id_; }
  [[nodiscard]] std::string status() const override { return {}; }
  [[nodiscard]] bool are_reachable() const noexcept override { return false; }
  [[nodiscard]] bool are_catching_up() const noexcept override { return false; }
  [[nodiscard]] std::size_t members_in(std::string_view /*room*/) const override { return 0; }
  void add_names_in(std::string_view /*room*/,
                    std::vector<std::string_view>& /*names*/) const override {}
  void add_room_counts(std::map<std::string_view, std::size_t>& /*counts*/) const override {}
  [[nodiscard]] bool hold_nickname(std::string_view /*nickname*/) const override { return false; }
  [[nodiscard]] std::optional<std::string> nickname_in_claim(
      std::uint64_t /*session_id*/) const override {
    return std::nullopt;
  }
  [[nodiscard]] std::string history_for(const Session& session, const Room& room,
                                        std::size_t max_bytes) override;
  void keep_history(std::size_t /*lines*/) override {}
  void start() override {}
  void say_goodbye() override {}
  void greet(Session& /*session*/) override {}
  void entering(std::string_view /*room*/) override {}
  void joined(const Session& /*session*/, const Room& /*room*/) override {}
  void left(const Session& /*session*/, const Room& /*room*/,
            std::string_view /*reason*/) override {}
  void renamed(const Session& /*session*/, const Room& /*room*/,
               std::string_view /*old_name*/) override {}
  void said(const Session& /*session*/, std::string_view /*text*/) override {}
  void acted(const Session& /*session*/, std::string_view /*action*/) override {}
  void end_of_batch() override {}
  Whisper whisper(const Session& /*sender*/, std::string_view /*target*/, std::string_view /*text*/,
                  std::string& /*recipient*/) override {
    return Whisper::no_such_user;
  }
  bool claim_nickname(const Session& /*session*/, std::string_view /*nickname*/) override {
    return false;
  }
  void released_nickname(const Session& /*session*/, std::string_view /*nickname*/) override {}

 private:
  std::string no_id_;
};

}  // namespace epollchat::chat
