// Process statistics the benchmark reports: CPU time and resident memory of a process from
// /proc, the benchmark's own CPU time from getrusage, and the fd limit it needs.
// Library-style: returns values or std::nullopt, never prints.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace epollchat::bench {

// utime + stime of every thread of `pid`, in ns (resolution: one clock tick, usually 10 ms).
std::optional<std::uint64_t> process_cpu_ns(pid_t pid);

// VmRSS of `pid` in KiB.
std::optional<std::uint64_t> process_rss_kib(pid_t pid);

// User + system CPU time of this process, in ns.
std::uint64_t own_cpu_ns();

// CLOCK_MONOTONIC in ns; the clock payload timestamps use.
std::uint64_t monotonic_ns() noexcept;

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();

}  // namespace epollchat::bench
