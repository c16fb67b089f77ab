// KeyedRepeatedLog: a record that can recur for many keys (a peer's address, say), written at
// most once per interval for each key. Those held back go out at debug, as RepeatedLog's do.
//
// Owns: the keys written in the last interval and when each was written, at most `capacity`
// of them. Never: grows past its capacity, whatever the number of keys a
// flood brings: once every remembered key is recent, records for new keys share one
// RepeatedLog (one line a minute for all of them) until the oldest key's interval is over.
// Lifetime: the Log outlives it.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/repeated_log.hpp"

namespace epollchat {

class KeyedRepeatedLog {
 public:
  static constexpr auto kInterval = RepeatedLog::kInterval;

  KeyedRepeatedLog(const Log& log, LogLevel level, std::size_t capacity);

  // Writes `message` at the level given, unless a record for `key` went out less than
  // kInterval ago; then it goes out at debug only. Returns whether it went out at the level
  // given (for one of the keys beyond the capacity: whether the shared RepeatedLog wrote it).
  bool write(std::string_view key, std::string_view message, CoarseTime now = coarse_now());

  // Keys remembered now (at most the capacity).
  [[nodiscard]] std::size_t keys() const noexcept { return recent_.size(); }

 private:
  struct Written {
    std::string key;
    CoarseTime at;
  };

  // Forgets the keys whose interval is over.
  void forget_expired(CoarseTime now);

  const Log& log_;
  LogLevel level_;
  std::size_t capacity_;
  // The keys written in the last interval; and, oldest first, when each was written: the
  // order in which their intervals end.
  std::unordered_set<std::string> recent_;
  std::deque<Written> written_;
  RepeatedLog overflow_;
};

}  // namespace epollchat
