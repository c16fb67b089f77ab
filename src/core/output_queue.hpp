// OutputQueue: the bytes a connection still has to send, as references into shared chunks.
//
// Owns: one reference per segment on the chunk it points into, and a ring of segments. The
// first segment lives inline: a recipient usually has one merged range per turn, so an
// idle or keeping-up connection never allocates here; a heap ring exists only while more
// than one range is pending, and is freed when the queue drains.
// Never: copies payload bytes, except in compact(); touches a socket (the caller writes what
// iovecs() shows and reports with consume() how much went out).
// Lifetime: must be cleared or destroyed before the ChunkPool its chunks came from.
//
// Memory: a segment keeps its whole chunk alive, so a few bytes queued from each of many
// chunks can hold far more memory than they are worth. pinned_bytes() counts what the queue
// holds (each run of segments in one chunk costs the chunk's capacity, plus the ring), and
// compact() copies the pending bytes into one chunk of their own size, letting the rest go.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/chunk.hpp"

namespace epollchat {

class OutputQueue {
 public:
  OutputQueue() noexcept = default;
  // Not movable either: ring_ may point at inline_.
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;
  ~OutputQueue() { clear(); }

  // Queues `length` bytes of `chunk` at `offset`. A range that continues the last queued
  // one in the same chunk extends it instead, so a turn's lines from several senders that
  // sit back to back in one chunk go out as a single iovec.
  void push(const ChunkRef& chunk, std::size_t offset, std::size_t length);

  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t pending_bytes() const noexcept { return pending_bytes_; }
  [[nodiscard]] std::size_t segment_count() const noexcept { return count_; }
  // The memory the queue keeps alive: every chunk it refers to, whole, and its ring. A chunk
  // referred to from two runs apart is counted twice, which errs on the safe side.
  [[nodiscard]] std::size_t pinned_bytes() const noexcept {
    return pinned_chunk_bytes_ + (heap_ ? capacity_ * sizeof(Segment) : 0);
  }

  // Replaces every segment by one copy of the pending bytes in a chunk of exactly their
  // size (from the pool of the chunks they are in), so the queue pins no more than it has
  // to send.
  void compact();

  // Appends a copy of every pending byte, in order, to `out` (for a restart's hand-over).
  void copy_pending(std::string& out) const;

  // Describes up to `max` leading segments in `iov`; returns how many were filled.
  std::size_t iovecs(iovec* iov, std::size_t max) const noexcept;
  // Drops `bytes` from the front (they were written).
  void consume(std::size_t bytes) noexcept;
  // Drops everything and returns the ring's memory.
  void clear() noexcept;

 private:
  struct Segment {
    Chunk* chunk;  // holds one reference
    std::uint32_t offset;
    std::uint32_t length;
  };

  [[nodiscard]] Segment& at(std::size_t index) const noexcept {
    return ring_[(head_ + index) & (capacity_ - 1)];
  }
  void grow();
  // Drops the front segment's reference; the run it ends (if it does) is no longer pinned.
  void drop_front() noexcept;

  void use_inline_segment() noexcept;

  Segment inline_{};
  Segment* ring_ = &inline_;
  std::unique_ptr<Segment[]> heap_;
  // 32 bits each: a queue holds far fewer than 4 G segments (max-backlog caps it), and an
  // idle connection's footprint matters at 10,000 clients.
  std::uint32_t capacity_ = 1;  // a power of two
  std::uint32_t head_ = 0;
  std::uint32_t count_ = 0;
  std::size_t pending_bytes_ = 0;
  std::size_t pinned_chunk_bytes_ = 0;
};

}  // namespace epollchat
