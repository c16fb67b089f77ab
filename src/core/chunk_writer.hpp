// ChunkWriter: the one chunk every room of a server formats its lines into.
//
// Owns: a reference to the current chunk, and a note of which room has a batch staged in it.
// Never: queues anything to a connection (rooms do), or keeps a chunk per room: an idle room
// holds no memory, however many rooms there are.
// Lifetime: outlives the rooms that write through it; the pool outlives it.
//
// A room stages one sender's consecutive lines as one range of the chunk, so that every
// recipient gets them as one queue entry. The range must stay contiguous, so before anyone
// else appends (another room, a reply) or the chunk is replaced, the room with the staged batch
// is told to hand it on first: recipients still see lines in the order they were accepted.
#pragma once

#include <cstddef>

#include "core/chunk.hpp"

namespace epollchat {

// A room's staged batch, as the writer sees it.
class StagedBatch {
 public:
  // Queue the staged range to its recipients now.
  virtual void flush_staged() = 0;

 protected:
  ~StagedBatch() = default;
};

class ChunkWriter {
 public:
  explicit ChunkWriter(ChunkPool& pool) noexcept : pool_(pool) {}
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  // Room for `length` bytes at the tail of the current chunk, for `batch` (the caller's own
  // staged batch, which stays staged if it fits; null for a line that is not staged). Any
  // other staged batch is handed on first; a new chunk is taken if the current one is full,
  // after handing on the caller's batch too. Write at the tail, then commit().
  char* reserve(std::size_t length, StagedBatch* batch);
  void commit(std::size_t length) noexcept { chunk_->commit(length); }

  // Marks `batch` as the one staged in the current chunk, until forget_staged().
  void note_staged(StagedBatch& batch) noexcept { staged_ = &batch; }
  void forget_staged(const StagedBatch& batch) noexcept {
    if (staged_ == &batch) staged_ = nullptr;
  }

  // Queues the staged batch, if any, now rather than at the end of the turn.
  void flush_staged() {
    if (staged_ != nullptr) staged_->flush_staged();
  }

  [[nodiscard]] const ChunkRef& chunk() const noexcept { return chunk_; }
  // Offset of the next byte to be written in the current chunk.
  [[nodiscard]] std::size_t tail_offset() const noexcept { return chunk_ ? chunk_->size() : 0; }

 private:
  ChunkPool& pool_;
  ChunkRef chunk_;
  StagedBatch* staged_ = nullptr;
};

}  // namespace epollchat
