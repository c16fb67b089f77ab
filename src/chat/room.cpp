#include "chat/room.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "chat/protocol.hpp"

namespace epollchat::chat {

void Room::add(Connection& member) {
  flush_staged();
  members_.push_back(&member);
}

void Room::remove(Connection& member) noexcept {
  // The staged batch was accepted before the member left: it is delivered as it stands,
  // whether the member sent it (to the others) or is among its recipients.
  flush_staged();
  // Linear, to keep join order; thousands of pointers are scanned in microseconds, and
  // this runs once per disconnect, not per message.
  const auto found = std::find(members_.begin(), members_.end(), &member);
  if (found != members_.end()) members_.erase(found);
}

Room::~Room() { writer_.forget_staged(*this); }

bool Room::contains(const Connection& member) const noexcept {
  return std::find(members_.begin(), members_.end(), &member) != members_.end();
}

Room::Range Room::append(std::string_view line) {
  flush_staged();
  char* out = writer_.reserve(line.size(), nullptr);
  std::memcpy(out, line.data(), line.size());
  const Range range{writer_.tail_offset(), line.size()};
  writer_.commit(line.size());
  return range;
}

std::size_t Room::stage_chat_line(const void* origin, const Connection* except,
                                  std::string_view sender_name, std::string_view text) {
  if (staged_origin_ != origin) flush_staged();
  const std::size_t length = protocol::chat_line_size(sender_name, text);
  char* out = writer_.reserve(length, this);
  // reserve() may have handed on the batch to start a new chunk.
  if (staged_origin_ == nullptr) {
    staged_origin_ = origin;
    staged_except_ = except;
    staged_ = Range{writer_.tail_offset(), 0};
    writer_.note_staged(*this);
  }
  protocol::write_chat_line(out, sender_name, text);
  history_.record(std::string_view(out, length - 1));
  writer_.commit(length);
  staged_.length += length;
  return length;
}

void Room::flush_staged() {
  if (staged_origin_ == nullptr) return;
  staged_origin_ = nullptr;
  writer_.forget_staged(*this);
  queue_to_all(staged_, std::exchange(staged_except_, nullptr));
}

void Room::broadcast(std::string_view line, const Connection* except) {
  queue_to_all(append(line), except);
}

void Room::broadcast_action(std::string_view line, const Connection* except) {
  broadcast(line, except);
  if (line.ends_with('\n')) line.remove_suffix(1);
  history_.record(line);
}

void Room::send_to(Connection& recipient, std::string_view line) {
  const Range range = append(line);
  recipient.queue(writer_.chunk(), range.offset, range.length);
}

void Room::queue_to_all(const Range& range, const Connection* except) {
  const ChunkRef& chunk = writer_.chunk();
  for (Connection* member : members_) {
    if (member != except) member->queue(chunk, range.offset, range.length);
  }
}

}  // namespace epollchat::chat
