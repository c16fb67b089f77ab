// OutputCapture: collects everything a child writes to a pipe, so a test can read the
// daemon's log and wait for a line to appear in it.
//
// Owns: both ends of the pipe and one reader thread. The child gets write_fd() (dup2'd, not
// consumed); the parent must call close_write_end() after spawning, or EOF never comes.
// Never: blocks the test forever: the reader thread is woken through an eventfd on
// destruction even if some other process still holds the write end.
// Lifetime: the text stays readable after the child exits, until the object is destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/unique_fd.hpp"

namespace epollchat::test {

class OutputCapture {
 public:
  OutputCapture();  // throws std::system_error
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;
  ~OutputCapture();

  [[nodiscard]] int write_fd() const { return write_end_.get(); }
  void close_write_end() { write_end_.reset(); }

  // Everything captured so far.
  [[nodiscard]] std::string text() const;
  // Waits until the captured text contains `needle`. False on timeout or if the pipe reached
  // EOF (every writer gone) without it.
  bool wait_for(std::string_view needle, std::chrono::milliseconds timeout) const;
  // Waits until every writer has closed the pipe. False on timeout.
  bool wait_for_eof(std::chrono::milliseconds timeout) const;

 private:
  void run();

  UniqueFd read_end_;
  UniqueFd write_end_;
  UniqueFd stop_;  // eventfd: written by the destructor to end the reader thread
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string text_;
  bool eof_ = false;
  std::thread reader_;
};

// How often `needle` occurs in `text` (a log), not overlapping.
inline std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace epollchat::test
