// Options: the command line of epollchat-bench, parsed and checked.
// parse_options() throws std::invalid_argument with a one-line message on bad input.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace epollchat::bench {

enum class Mode { line, redis };

struct Options {
  Mode mode = Mode::line;
  std::vector<std::string> servers;  // HOST:PORT, clients spread round-robin (one room)
  std::uint32_t clients = 100;       // receivers + 1: every message reaches clients - 1
  std::uint32_t senders = 10;        // with --rooms, both count per room
  // 0: everyone in the lobby. N: N rooms of `clients` members and `senders` senders each,
  // every member of room r on server r mod (number of servers).
  std::uint32_t rooms = 0;
  std::uint32_t silent_servers = 0;   // --rooms: the rooms of the last K servers have no senders
  std::uint32_t messages = 10000;     // per sender (an upper bound when duration is set)
  std::uint32_t size = 64;            // payload bytes, without framing
  std::uint32_t window = 0;           // 0: chosen from senders and size
  double duration_s = 0;              // stop starting messages after this; 0: no limit
  double timeout_s = 10;              // give up after this long without progress
  std::uint32_t connect_batch = 256;  // connections being set up at once
  std::vector<pid_t> server_pids;     // report these processes' CPU time, summed
  std::string redis_info;             // HOST:PORT: report its INFO traffic over the measurement
  pid_t idle_rss_pid = 0;             // idle-memory mode: report this process's RSS growth
  std::string channel = "epollchat-bench";
  bool progress = true;
  bool tls = false;    // every connection speaks TLS, verifying the server's certificate
  std::string tls_ca;  // PEM file of the CA to trust; empty: the system's trust store
};

Options parse_options(int argc, char** argv);

extern const char* const kUsage;

}  // namespace epollchat::bench
