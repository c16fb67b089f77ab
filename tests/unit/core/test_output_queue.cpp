// OutputQueue: ranges of shared chunks, merged when contiguous, consumed from the front;
// every reference it takes is given back.
#include "core/output_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/unit_helpers.hpp"

namespace epollchat {
namespace {

using test::make_chunk;

// The bytes the queue would write, as iovecs() describes them.
std::string queued_bytes(const OutputQueue& queue) {
  std::vector<iovec> iov(queue.segment_count() + 1);
  const std::size_t n = queue.iovecs(iov.data(), iov.size());
  EXPECT_EQ(n, queue.segment_count());
  std::string bytes;
  for (std::size_t i = 0; i < n; ++i) {
    bytes.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  }
  return bytes;
}

TEST(OutputQueue, StartsEmpty) {
  OutputQueue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.segment_count(), 0u);
  iovec iov[4];
  EXPECT_EQ(queue.iovecs(iov, 4), 0u);
  queue.consume(0);
  EXPECT_TRUE(queue.empty());
}

TEST(OutputQueue, MergesContiguousRangesOfOneChunk) {
  ChunkPool pool(64, 4);
  const ChunkRef chunk = make_chunk(pool, "line one\nline two\nline three\n");
  OutputQueue queue;
  queue.push(chunk, 0, 9);
  queue.push(chunk, 9, 9);
  queue.push(chunk, 18, 11);
  EXPECT_EQ(queue.segment_count(), 1u);
  EXPECT_EQ(queue.pending_bytes(), 29u);
  EXPECT_EQ(queued_bytes(queue), "line one\nline two\nline three\n");
}

TEST(OutputQueue, KeepsSeparateSegmentsForGapsAndOtherChunks) {
  ChunkPool pool(64, 4);
  const ChunkRef first = make_chunk(pool, "aaaa-bbbb");
  const ChunkRef second = make_chunk(pool, "cccc");
  OutputQueue queue;
  queue.push(first, 0, 4);
  queue.push(first, 5, 4);   // gap: not contiguous
  queue.push(second, 0, 4);  // another chunk
  queue.push(first, 0, 4);   // back to the first chunk, not after its last range
  EXPECT_EQ(queue.segment_count(), 4u);
  EXPECT_EQ(queue.pending_bytes(), 16u);
  EXPECT_EQ(queued_bytes(queue), "aaaabbbbccccaaaa");
}

TEST(OutputQueue, IgnoresEmptyRanges) {
  ChunkPool pool(64, 4);
  const ChunkRef chunk = make_chunk(pool, "x");
  OutputQueue queue;
  queue.push(chunk, 0, 0);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.segment_count(), 0u);
}

TEST(OutputQueue, IovecsStopsAtMax) {
  ChunkPool pool(64, 4);
  std::vector<ChunkRef> chunks;
  OutputQueue queue;
  for (int i = 0; i < 5; ++i) {
    chunks.push_back(make_chunk(pool, std::to_string(i)));
    queue.push(chunks.back(), 0, 1);
  }
  iovec iov[3];
  ASSERT_EQ(queue.iovecs(iov, 3), 3u);
  EXPECT_EQ(std::string(static_cast<const char*>(iov[2].iov_base), iov[2].iov_len), "2");
}

TEST(OutputQueue, PartialConsumeAcrossSegments) {
  ChunkPool pool(64, 4);
  const ChunkRef a = make_chunk(pool, "12345");
  const ChunkRef b = make_chunk(pool, "abcde");
  const ChunkRef c = make_chunk(pool, "vwxyz");
  OutputQueue queue;
  queue.push(a, 0, 5);
  queue.push(b, 0, 5);
  queue.push(c, 0, 5);

  queue.consume(2);  // inside the first segment
  EXPECT_EQ(queue.pending_bytes(), 13u);
  EXPECT_EQ(queue.segment_count(), 3u);
  EXPECT_EQ(queued_bytes(queue), "345abcdevwxyz");

  queue.consume(5);  // the rest of the first and into the second
  EXPECT_EQ(queue.pending_bytes(), 8u);
  EXPECT_EQ(queue.segment_count(), 2u);
  EXPECT_EQ(queued_bytes(queue), "cdevwxyz");

  queue.consume(3);  // exactly the end of the second
  EXPECT_EQ(queue.segment_count(), 1u);
  EXPECT_EQ(queued_bytes(queue), "vwxyz");

  queue.consume(5);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_bytes(), 0u);
}

TEST(OutputQueue, ConsumedSegmentsReturnTheirChunks) {
  ChunkPool pool(64, 8);
  OutputQueue queue;
  queue.push(make_chunk(pool, "first"), 0, 5);
  queue.push(make_chunk(pool, "second"), 0, 6);
  EXPECT_EQ(pool.chunks_in_use(), 2u) << "the queue alone keeps both chunks";
  queue.consume(4);
  EXPECT_EQ(pool.chunks_in_use(), 2u);
  queue.consume(1);
  EXPECT_EQ(pool.chunks_in_use(), 1u);
  queue.consume(6);
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  EXPECT_EQ(pool.idle_chunks(), 2u);
}

TEST(OutputQueue, SharedChunkStaysInUseUntilEveryQueueIsDone) {
  ChunkPool pool(64, 8);
  OutputQueue first;
  OutputQueue second;
  {
    const ChunkRef chunk = make_chunk(pool, "broadcast\n");
    first.push(chunk, 0, 10);
    second.push(chunk, 0, 10);
  }
  EXPECT_EQ(pool.chunks_in_use(), 1u);
  first.consume(10);
  EXPECT_EQ(pool.chunks_in_use(), 1u);
  second.clear();
  EXPECT_EQ(pool.chunks_in_use(), 0u);
}

TEST(OutputQueue, ClearAndDestructionDropEveryReference) {
  ChunkPool pool(64, 8);
  {
    OutputQueue queue;
    for (int i = 0; i < 100; ++i) queue.push(make_chunk(pool, "x"), 0, 1);
    EXPECT_EQ(pool.chunks_in_use(), 100u);
    queue.clear();
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.pending_bytes(), 0u);
    EXPECT_EQ(pool.chunks_in_use(), 0u);
    queue.push(make_chunk(pool, "y"), 0, 1);
    EXPECT_EQ(pool.chunks_in_use(), 1u);
  }
  EXPECT_EQ(pool.chunks_in_use(), 0u);
}

TEST(OutputQueue, RingWrapsAroundAndGrowsInOrder) {
  // Consume from the front while pushing at the back, so the ring's head moves round and
  // it has to grow while wrapped.
  ChunkPool pool(4096, 8);
  OutputQueue queue;
  std::string expected;
  int next = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 5 + round % 7; ++i) {
      const std::string text = std::to_string(next++) + ",";
      queue.push(make_chunk(pool, text), 0, text.size());
      expected += text;
    }
    const std::size_t drop = std::min<std::size_t>(expected.size(), 7);
    ASSERT_EQ(queued_bytes(queue), expected) << "round " << round;
    queue.consume(drop);
    expected.erase(0, drop);
    ASSERT_EQ(queue.pending_bytes(), expected.size());
  }
  EXPECT_EQ(queued_bytes(queue), expected);
  queue.consume(queue.pending_bytes());
  EXPECT_EQ(pool.chunks_in_use(), 0u);
}

}  // namespace
}  // namespace epollchat
