#include "core/keyed_repeated_log.hpp"

namespace epollchat {

KeyedRepeatedLog::KeyedRepeatedLog(const Log& log, LogLevel level, std::size_t capacity)
    : log_(log), level_(level), capacity_(capacity), overflow_(log, level) {}

bool KeyedRepeatedLog::write(std::string_view key, std::string_view message, CoarseTime now) {
  forget_expired(now);
  std::string name(key);
  if (recent_.contains(name)) {
    log_.debug(message);
    return false;
  }
  if (recent_.size() >= capacity_) return overflow_.write(message, now);
  recent_.insert(name);
  written_.push_back(Written{std::move(name), now});
  log_.write(level_, message);
  return true;
}

void KeyedRepeatedLog::forget_expired(CoarseTime now) {
  // A key is written again only once it was forgotten, so each key has one record here.
  while (!written_.empty() && now - written_.front().at >= kInterval) {
    recent_.erase(written_.front().key);
    written_.pop_front();
  }
}

}  // namespace epollchat
