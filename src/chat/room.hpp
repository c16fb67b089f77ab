// Room: the members of one chat and the broadcast of lines to them.
//
// Owns: the batch of chat lines from one sender that is not yet queued (staged). The bytes
// live in the ChunkWriter's chunk, shared by every room: an idle room holds no buffer.
// Never: owns or destroys a member, writes to a socket (it only queues), knows nicknames.
// Lifetime: a member must be removed before it is destroyed; a member whose queue fails
// during a broadcast (backlog exceeded) stays listed until its owner removes it, so the
// member list never changes while the room walks it.
//
// Every line is formatted once into a shared chunk and each recipient's queue refers to
// it. Chat lines are staged: consecutive lines from one sender accumulate in the chunk and
// go to the recipients as one range, so a read of 500 lines costs one queue operation per
// recipient, not 500. Anything else queued through the room first hands on the staged
// batch, so every recipient sees lines in the order the room accepted them.
//
// The room keeps its last chat lines and actions in its RoomHistory (off until given a
// capacity): a staged line is copied from the chunk into the ring, nothing more.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/room_history.hpp"
#include "core/chunk.hpp"
#include "core/chunk_writer.hpp"
#include "core/connection.hpp"

namespace epollchat::chat {

class Room final : public StagedBatch {
 public:
  Room(ChunkWriter& writer, std::string name) : writer_(writer), name_(std::move(name)) {}
  ~Room();
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  void add(Connection& member);
  void remove(Connection& member) noexcept;
  [[nodiscard]] bool contains(const Connection& member) const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return members_.size(); }
  // In join order.
  [[nodiscard]] const std::vector<Connection*>& members() const noexcept { return members_; }

  // Adds "<sender_name> says >> <text>" to the batch that goes to everyone but `sender`;
  // returns the length of that line (what each recipient is queued).
  std::size_t stage_chat_line(Connection& sender, std::string_view sender_name,
                              std::string_view text) {
    return stage_chat_line(&sender, &sender, sender_name, text);
  }
  // The same for a sender that is not a member here (on another node): `origin` tells one
  // such sender's batch from another's; every member receives it.
  std::size_t stage_remote_chat_line(const void* origin, std::string_view sender_name,
                                     std::string_view text) {
    return stage_chat_line(origin, nullptr, sender_name, text);
  }
  // Queues the staged batch, if any.
  void flush_staged() override;

  // Queues an action line ("* NAME ACTION\n") to every member except `except` (may be null)
  // and keeps it in the history.
  void broadcast_action(std::string_view line, const Connection* except);
  // Keeps "<sender_name> says >> <text>" in the history without sending it to anyone here
  // (said to other nodes' members only).
  void record_chat_line(std::string_view sender_name, std::string_view text) {
    if (history_.capacity() != 0) history_.record_chat(sender_name, text, RoomHistory::now());
  }
  [[nodiscard]] RoomHistory& history() noexcept { return history_; }
  [[nodiscard]] const RoomHistory& history() const noexcept { return history_; }

  // Queues a complete line (ending in LF) to every member except `except` (may be null).
  void broadcast(std::string_view line, const Connection* except);
  // Queues a complete line to one connection, member or not.
  void send_to(Connection& recipient, std::string_view line);

 private:
  struct Range {
    std::size_t offset;
    std::size_t length;
  };

  std::size_t stage_chat_line(const void* origin, const Connection* except,
                              std::string_view sender_name, std::string_view text);
  // Appends a complete line that is not staged; returns where it is in writer_.chunk().
  Range append(std::string_view line);
  void queue_to_all(const Range& range, const Connection* except);

  ChunkWriter& writer_;
  std::string name_;
  std::vector<Connection*> members_;
  // Who the staged batch is from, and who does not get it (the sender, if a member).
  const void* staged_origin_ = nullptr;
  const Connection* staged_except_ = nullptr;
  Range staged_{0, 0};
  RoomHistory history_;
};

}  // namespace epollchat::chat
