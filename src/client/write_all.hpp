// write_all: writes a whole buffer to a blocking descriptor.
//
// Used for standard output (which may be a terminal, a pipe or a file) and, in the stdin
// reader's child, for the pipe to the parent. It never allocates, throws or logs, so the
// forked child may call it.
#pragma once

#include <cstddef>
#include <string_view>

namespace epollchat::client {

// Retries after EINTR and after partial writes until every byte is written. On a
// descriptor someone else made non-blocking it waits for POLLOUT instead of spinning.
// Returns 0, or the errno of the write that failed (EPIPE when the reader has gone).
[[nodiscard]] int write_all(int fd, std::string_view bytes) noexcept;

}  // namespace epollchat::client
