// ProcessStats: what /proc says about another process (the daemon under test).
//
// Free functions, no state. Each reads /proc/PID afresh, so callers sample when they choose.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace epollchat::test {

// VmRSS from /proc/PID/status, in bytes. Throws std::runtime_error if unreadable.
std::size_t resident_set_bytes(pid_t pid);

// The number of entries in /proc/PID/fd. Throws std::system_error if unreadable.
std::size_t count_open_fds(pid_t pid);

// A TCP socket in LISTEN state held by the process.
struct ListeningSocket {
  int fd = -1;
  int family = 0;  // AF_INET or AF_INET6
  std::uint16_t port = 0;
};

// Every listening TCP socket among the process's fds (matched by inode against
// /proc/PID/net/tcp and tcp6).
std::vector<ListeningSocket> listening_tcp_sockets(pid_t pid);

}  // namespace epollchat::test
