#include "core/chunk_writer.hpp"

namespace epollchat {

char* ChunkWriter::reserve(std::size_t length, StagedBatch* batch) {
  if (staged_ != nullptr && staged_ != batch) staged_->flush_staged();
  if (!chunk_ || chunk_->free_space() < length) {
    // The caller's batch lives in the old chunk: it goes out from there.
    if (staged_ != nullptr) staged_->flush_staged();
    chunk_ = pool_.acquire(length);
  }
  return chunk_->tail();
}

}  // namespace epollchat
