#include "core/room.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/protocol.hpp"

namespace epollchat {

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

bool Room::contains(const Connection& member) const noexcept {
  return std::find(members_.begin(), members_.end(), &member) != members_.end();
}

char* Room::reserve(std::size_t length) {
  if (!chunk_ || chunk_->free_space() < length) {
    flush_staged();
    chunk_ = pool_.acquire(length);
  }
  return chunk_->tail();
}

Room::Range Room::append(std::string_view line) {
  char* out = reserve(line.size());
  std::memcpy(out, line.data(), line.size());
  const Range range{chunk_->size(), line.size()};
  chunk_->commit(line.size());
  return range;
}

void Room::stage_chat_line(const void* origin, const Connection* except,
                           std::string_view sender_name, std::string_view text) {
  if (staged_origin_ != origin) flush_staged();
  const std::size_t length = protocol::chat_line_size(sender_name, text);
  char* out = reserve(length);
  // reserve() may have handed on the batch to start a new chunk.
  if (staged_origin_ == nullptr) {
    staged_origin_ = origin;
    staged_except_ = except;
    staged_ = Range{chunk_->size(), 0};
  }
  protocol::write_chat_line(out, sender_name, text);
  chunk_->commit(length);
  staged_.length += length;
}

void Room::flush_staged() {
  if (staged_origin_ == nullptr) return;
  staged_origin_ = nullptr;
  queue_to_all(staged_, std::exchange(staged_except_, nullptr));
}

void Room::broadcast(std::string_view line, const Connection* except) {
  flush_staged();
  queue_to_all(append(line), except);
}

void Room::send_to(Connection& recipient, std::string_view line) {
  flush_staged();
  const Range range = append(line);
  recipient.queue(chunk_, range.offset, range.length);
}

void Room::queue_to_all(const Range& range, const Connection* except) {
  for (Connection* member : members_) {
    if (member != except) member->queue(chunk_, range.offset, range.length);
  }
}

}  // namespace epollchat
