// RepeatedLog: a log record for a condition that can recur many times a second (a limit
// reached by client after client, Redis refusing command after command), written at most
// once per interval with a count of what was left out meanwhile.
//
// Owns: when it last wrote and how many it held back since. Never: decides the level of
// a record at run time; drops the first record of a quiet period (that one always goes out).
// The records held back go out at debug, so nothing is lost to an operator who asks.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace epollchat {

class RepeatedLog {
 public:
  static constexpr auto kInterval = std::chrono::seconds(60);

  RepeatedLog(const Log& log, LogLevel level) noexcept : log_(log), level_(level) {}

  // Returns whether the record went out at the level given (false: held back).
  bool write(std::string_view message, CoarseTime now = coarse_now()) {
    if (written_ != CoarseTime() && now - written_ < kInterval) {
      ++held_back_;
      log_.debug(message);
      return false;
    }
    std::string record(message);
    if (held_back_ != 0) {
      record +=
          " (and " + std::to_string(held_back_) + " more like it in the last " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - written_).count()) +
          " s)";
    }
    written_ = now;
    held_back_ = 0;
    log_.write(level_, record);
    return true;
  }

 private:
  const Log& log_;
  LogLevel level_;
  CoarseTime written_;
  std::uint64_t held_back_ = 0;
};

}  // namespace epollchat
