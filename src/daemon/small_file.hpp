// Reading a small regular file whole: the config file and the Redis password file.
//
// Never: follows a directory (open() succeeds on one, and a read would fail with EISDIR,
// which a stream reports as an empty file), or reads past a size limit.
#pragma once

#include <cstddef>
#include <string>

namespace epollchat::daemon {

// Reads all of `path` into `contents`. Returns 0, or the errno that stopped it: EISDIR for a
// directory, EFBIG for a file over `max_size` bytes, else what open() or read() said.
[[nodiscard]] int read_small_file(const std::string& path, std::size_t max_size,
                                  std::string& contents);

}  // namespace epollchat::daemon
