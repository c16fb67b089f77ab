// Chunk, ChunkRef, ChunkPool: reference counting returns chunks to the pool.
#include "core/chunk.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>

namespace epollchat {
namespace {

TEST(ChunkPool, AcquireGivesAnEmptyChunkOfAtLeastTheSizeAsked) {
  ChunkPool pool(1024, 4);
  ChunkRef small = pool.acquire(10);
  EXPECT_EQ(small->size(), 0u);
  EXPECT_EQ(small->capacity(), 1024u);
  EXPECT_EQ(small->free_space(), 1024u);
  ChunkRef large = pool.acquire(5000);
  EXPECT_GE(large->capacity(), 5000u);
  EXPECT_EQ(pool.chunks_in_use(), 2u);
}

TEST(ChunkPool, CommitAppendsToTheTail) {
  ChunkPool pool(64, 4);
  ChunkRef chunk = pool.acquire(1);
  std::memcpy(chunk->tail(), "abc", 3);
  chunk->commit(3);
  std::memcpy(chunk->tail(), "de", 2);
  chunk->commit(2);
  EXPECT_EQ(std::string_view(chunk->data(), chunk->size()), "abcde");
  EXPECT_EQ(chunk->free_space(), 59u);
}

TEST(ChunkPool, LastReferenceReturnsTheChunkForReuse) {
  ChunkPool pool(64, 4);
  Chunk* raw = nullptr;
  {
    ChunkRef first = pool.acquire(1);
    raw = first.get();
    first->commit(10);
    ChunkRef copy = first;
    ChunkRef moved = std::move(first);
    EXPECT_FALSE(first) << "a moved-from reference is empty";
    EXPECT_EQ(pool.chunks_in_use(), 1u);
    copy.reset();
    EXPECT_EQ(pool.chunks_in_use(), 1u) << "one reference is still held";
    EXPECT_EQ(pool.idle_chunks(), 0u);
  }
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  EXPECT_EQ(pool.idle_chunks(), 1u);
  ChunkRef again = pool.acquire(1);
  EXPECT_EQ(again.get(), raw) << "the idle chunk is reused";
  EXPECT_EQ(again->size(), 0u) << "and comes back empty";
}

TEST(ChunkPool, ReleaseAndDropHandAReferenceAround) {
  ChunkPool pool(64, 4);
  ChunkRef chunk = pool.acquire(1);
  Chunk* raw = ChunkRef(chunk).release();  // a second reference, now held as a raw pointer
  chunk.reset();
  EXPECT_EQ(pool.chunks_in_use(), 1u);
  ChunkRef::drop(raw);
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  ChunkRef::drop(nullptr);  // harmless
}

TEST(ChunkPool, OversizeChunksAreFreedNotKept) {
  ChunkPool pool(64, 4);
  pool.acquire(1000).reset();
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  EXPECT_EQ(pool.idle_chunks(), 0u);
}

TEST(ChunkPool, KeepsAtMostMaxIdleChunks) {
  ChunkPool pool(64, 2);
  {
    ChunkRef a = pool.acquire(1);
    ChunkRef b = pool.acquire(1);
    ChunkRef c = pool.acquire(1);
    EXPECT_EQ(pool.chunks_in_use(), 3u);
  }
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  EXPECT_EQ(pool.idle_chunks(), 2u);
}

TEST(ChunkPool, AssignmentDropsTheOldReference) {
  ChunkPool pool(64, 4);
  ChunkRef a = pool.acquire(1);
  ChunkRef b = pool.acquire(1);
  EXPECT_EQ(pool.chunks_in_use(), 2u);
  a = b;
  EXPECT_EQ(pool.chunks_in_use(), 1u);
  EXPECT_EQ(a.get(), b.get());
  a = a;  // self-assignment keeps the chunk
  EXPECT_EQ(pool.chunks_in_use(), 1u);
}

}  // namespace
}  // namespace epollchat
