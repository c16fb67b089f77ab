// RedisTraffic: what a redis-server has carried so far, read from its INFO, so that the
// benchmark can report the bytes and publishes of its measurement window (the difference
// of two readings).
// A blocking query on a connection of its own, meant for outside the measurement: before the
// clock starts and after it stops. Library-style: returns a value or std::nullopt, never
// prints.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>

namespace epollchat::bench {

struct RedisTraffic {
  std::uint64_t input_bytes = 0;   // INFO stats total_net_input_bytes
  std::uint64_t output_bytes = 0;  // INFO stats total_net_output_bytes
  std::uint64_t publishes = 0;     // INFO commandstats cmdstat_publish calls (0 if none yet)
};

// Connects to the redis-server at `address`, asks INFO all, and reads the three figures;
// nullopt if it cannot within `timeout_s` seconds or the reply lacks the byte counters.
std::optional<RedisTraffic> read_redis_traffic(const sockaddr* address, socklen_t length,
                                               double timeout_s);

}  // namespace epollchat::bench
