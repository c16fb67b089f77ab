#include "core/chunk.hpp"

namespace epollchat {

ChunkRef ChunkPool::acquire(std::size_t min_capacity) {
  ++in_use_;
  if (min_capacity <= chunk_size_ && !idle_.empty()) {
    Chunk* chunk = idle_.back().release();
    idle_.pop_back();
    return ChunkRef(chunk);
  }
  return ChunkRef(new Chunk(*this, min_capacity > chunk_size_ ? min_capacity : chunk_size_));
}

ChunkRef ChunkPool::acquire_exact(std::size_t capacity) {
  if (capacity == chunk_size_) return acquire(capacity);
  ++in_use_;
  return ChunkRef(new Chunk(*this, capacity));
}

void ChunkPool::recycle(Chunk* chunk) noexcept {
  --in_use_;
  std::unique_ptr<Chunk> owned(chunk);
  if (chunk->capacity_ != chunk_size_ || idle_.size() >= max_idle_) return;
  chunk->size_ = 0;
  try {
    idle_.push_back(std::move(owned));
  } catch (...) {
    // Out of memory for the free list: the chunk is simply freed instead of kept.
  }
}

}  // namespace epollchat
