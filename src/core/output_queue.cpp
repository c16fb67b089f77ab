#include "core/output_queue.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace epollchat {
namespace {

// Chunks are far smaller than 4 GiB, so offsets and lengths fit 32 bits; a segment stays
// 16 bytes.
std::uint32_t narrow(std::size_t value) noexcept {
  assert(value <= UINT32_MAX);
  return static_cast<std::uint32_t>(value);
}

// The first heap ring; it doubles from there.
constexpr std::size_t kFirstHeapCapacity = 8;

}  // namespace

void OutputQueue::push(const ChunkRef& chunk, std::size_t offset, std::size_t length) {
  if (length == 0) return;
  pending_bytes_ += length;
  if (count_ > 0) {
    Segment& last = at(count_ - 1);
    if (last.chunk == chunk.get() && last.offset + last.length == offset) {
      last.length += narrow(length);
      return;
    }
  }
  // A new run of segments in one chunk pins that chunk.
  if (count_ == 0 || at(count_ - 1).chunk != chunk.get()) pinned_chunk_bytes_ += chunk->capacity();
  if (count_ == capacity_) grow();
  at(count_) = Segment{ChunkRef(chunk).release(), narrow(offset), narrow(length)};
  ++count_;
}

void OutputQueue::grow() {
  const std::size_t capacity = heap_ ? capacity_ * 2 : kFirstHeapCapacity;
  auto ring = std::make_unique<Segment[]>(capacity);
  for (std::size_t i = 0; i < count_; ++i) ring[i] = at(i);
  heap_ = std::move(ring);
  ring_ = heap_.get();
  capacity_ = narrow(capacity);
  head_ = 0;
}

void OutputQueue::use_inline_segment() noexcept {
  heap_.reset();
  ring_ = &inline_;
  capacity_ = 1;
  head_ = 0;
}

std::size_t OutputQueue::iovecs(iovec* iov, std::size_t max) const noexcept {
  const std::size_t n = std::min<std::size_t>(max, count_);
  for (std::size_t i = 0; i < n; ++i) {
    const Segment& segment = at(i);
    iov[i].iov_base = const_cast<char*>(segment.chunk->data() + segment.offset);
    iov[i].iov_len = segment.length;
  }
  return n;
}

void OutputQueue::consume(std::size_t bytes) noexcept {
  assert(bytes <= pending_bytes_);
  pending_bytes_ -= bytes;
  while (bytes > 0) {
    Segment& front = at(0);
    if (bytes < front.length) {
      front.offset += narrow(bytes);
      front.length -= narrow(bytes);
      return;
    }
    bytes -= front.length;
    drop_front();
  }
  if (count_ == 0) use_inline_segment();
}

void OutputQueue::drop_front() noexcept {
  Chunk* const chunk = at(0).chunk;
  if (count_ == 1 || at(1).chunk != chunk) pinned_chunk_bytes_ -= chunk->capacity();
  ChunkRef::drop(chunk);
  head_ = (head_ + 1) & (capacity_ - 1);
  --count_;
}

void OutputQueue::compact() {
  if (count_ == 0) return;
  ChunkRef copy = at(0).chunk->pool().acquire_exact(pending_bytes_);
  for (std::size_t i = 0; i < count_; ++i) {
    const Segment& segment = at(i);
    std::memcpy(copy->tail(), segment.chunk->data() + segment.offset, segment.length);
    copy->commit(segment.length);
  }
  const std::size_t pending = pending_bytes_;
  clear();
  push(copy, 0, pending);
}

void OutputQueue::copy_pending(std::string& out) const {
  out.reserve(out.size() + pending_bytes_);
  for (std::size_t i = 0; i < count_; ++i) {
    const Segment& segment = at(i);
    out.append(segment.chunk->data() + segment.offset, segment.length);
  }
}

void OutputQueue::clear() noexcept {
  for (std::size_t i = 0; i < count_; ++i) ChunkRef::drop(at(i).chunk);
  use_inline_segment();
  count_ = 0;
  pending_bytes_ = 0;
  pinned_chunk_bytes_ = 0;
}

}  // namespace epollchat
