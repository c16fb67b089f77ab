// ProcessStats: what /proc says about another process (the daemon under test).
//
// Free functions, no state. Each reads /proc/PID afresh, so callers sample when they choose.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace epollchat::test {

// VmRSS from /proc/PID/status, in bytes. Throws std::runtime_error if unreadable.
std::size_t resident_set_bytes(pid_t pid);

// The number of entries in /proc/PID/fd. Throws std::system_error if unreadable.
std::size_t count_open_fds(pid_t pid);
// count_open_fds() without the daemon's transient descriptors: sd_notify() opens a datagram
// socket for each STATUS= report and closes it right after sending, so one sample can catch
// a descriptor that is not a connection. The fewest of a few samples is what stays open.
std::size_t settled_open_fds(pid_t pid);

// The target of /proc/PID/exe ("" if unreadable). Under valgrind it is the tool
// (/usr/libexec/valgrind/memcheck-amd64-linux), not the program.
std::string executable_path(pid_t pid);

// True if the process is a valgrind tool running some program (tools/valgrind-daemon).
bool runs_under_valgrind(pid_t pid);

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
