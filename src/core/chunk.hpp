// Chunk, ChunkRef, ChunkPool: reference-counted byte blocks that broadcast lines live in.
//
// A line is formatted once into a chunk; every recipient's output queue then holds a
// reference to its bytes, so a broadcast to N clients copies nothing N times. Bytes once
// written (below size()) are never changed: only the free tail is appended to, so readers
// of earlier ranges never see a change.
//
// Owns: ChunkPool owns the chunks it keeps for reuse; a chunk in use is kept alive by its
// ChunkRefs and goes back to its pool when the last one is dropped.
// Lifetime: the pool must outlive every ChunkRef it handed out. Single-threaded: the
// reference count is a plain integer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace epollchat {

class ChunkPool;

class Chunk {
 public:
  Chunk(ChunkPool& pool, std::size_t capacity)
      : bytes_(std::make_unique_for_overwrite<char[]>(capacity)),
        capacity_(capacity),
        pool_(&pool) {}

  [[nodiscard]] const char* data() const noexcept { return bytes_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t free_space() const noexcept { return capacity_ - size_; }
  [[nodiscard]] ChunkPool& pool() const noexcept { return *pool_; }

  // The writable tail; bytes become part of the chunk with commit().
  [[nodiscard]] char* tail() noexcept { return bytes_.get() + size_; }
  void commit(std::size_t length) noexcept { size_ += length; }

 private:
  friend class ChunkRef;
  friend class ChunkPool;

  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  std::uint32_t references_ = 0;
  ChunkPool* pool_;
};

// An owning reference, like a non-atomic shared_ptr.
class ChunkRef {
 public:
  ChunkRef() noexcept = default;
  explicit ChunkRef(Chunk* chunk) noexcept : chunk_(chunk) {
    if (chunk_ != nullptr) ++chunk_->references_;
  }
  ChunkRef(const ChunkRef& other) noexcept : ChunkRef(other.chunk_) {}
  ChunkRef(ChunkRef&& other) noexcept : chunk_(std::exchange(other.chunk_, nullptr)) {}
  ChunkRef& operator=(ChunkRef other) noexcept {
    std::swap(chunk_, other.chunk_);
    return *this;
  }
  ~ChunkRef() { reset(); }

  void reset() noexcept;
  // Hands the reference to the caller (an OutputQueue segment keeps it as a raw pointer).
  [[nodiscard]] Chunk* release() noexcept { return std::exchange(chunk_, nullptr); }
  // Drops a reference obtained from release().
  static void drop(Chunk* chunk) noexcept;

  [[nodiscard]] Chunk* get() const noexcept { return chunk_; }
  Chunk* operator->() const noexcept { return chunk_; }
  explicit operator bool() const noexcept { return chunk_ != nullptr; }

 private:
  Chunk* chunk_ = nullptr;
};

class ChunkPool {
 public:
  // Chunks of `chunk_size` are recycled, up to `max_idle` of them; larger ones (for a
  // single line longer than a chunk) are freed when done. Eight idle chunks (512 KiB)
  // cover a busy turn's output; more would only be memory held while idle.
  explicit ChunkPool(std::size_t chunk_size = 64 * 1024, std::size_t max_idle = 8)
      : chunk_size_(chunk_size), max_idle_(max_idle) {}
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // An empty chunk with at least `min_capacity` bytes.
  ChunkRef acquire(std::size_t min_capacity);
  // An empty chunk of exactly `capacity` bytes (not recycled unless it is chunk_size()): for
  // a copy that should hold no more memory than its bytes.
  ChunkRef acquire_exact(std::size_t capacity);

  [[nodiscard]] std::size_t chunk_size() const noexcept { return chunk_size_; }
  [[nodiscard]] std::size_t idle_chunks() const noexcept { return idle_.size(); }
  [[nodiscard]] std::size_t chunks_in_use() const noexcept { return in_use_; }

 private:
  friend class ChunkRef;
  void recycle(Chunk* chunk) noexcept;

  std::size_t chunk_size_;
  std::size_t max_idle_;
  std::size_t in_use_ = 0;
  std::vector<std::unique_ptr<Chunk>> idle_;
};

inline void ChunkRef::reset() noexcept { drop(std::exchange(chunk_, nullptr)); }

inline void ChunkRef::drop(Chunk* chunk) noexcept {
  if (chunk != nullptr && --chunk->references_ == 0) chunk->pool_->recycle(chunk);
}

}  // namespace epollchat
