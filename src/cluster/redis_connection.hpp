// RedisConnection: one hiredis asynchronous connection, driven by epollchatd's EventLoop.
//
// Owns: the redisAsyncContext (and through it the socket), and the epoll registration of
// that socket. hiredis asks for read and write interest through the adapter callbacks
// (ev.addRead ... ev.cleanup); the loop hands readiness back to redisAsyncHandleRead/Write.
// Never: blocks (hiredis connects non-blocking; host names are not resolved, see
// RedisAddress), starts a thread, or reconnects by itself: the owner decides when.
// Lifetime: hiredis frees the context itself when the connection fails; the handler hears
// of it once (on_redis_disconnected) and may then connect() again, but not from inside that
// callback. Destroying the object or close() frees the context without calling the handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cluster/redis_address.hpp"
#include "core/event_loop.hpp"

struct redisAsyncContext;
struct redisReply;

namespace epollchat::cluster {

class RedisConnection;

class RedisConnectionHandler {
 public:
  virtual void on_redis_connected(RedisConnection& connection) = 0;
  // The connection failed, or could not be established; `why` says how.
  virtual void on_redis_disconnected(RedisConnection& connection, std::string_view why) = 0;
  // One reply, in the order the commands were sent (for a subscriber, every message).
  virtual void on_redis_reply(RedisConnection& connection, const redisReply& reply) = 0;

 protected:
  ~RedisConnectionHandler() = default;
};

class RedisConnection final : public Watcher {
 public:
  // Limits on what Redis may send (epollchat's own messages are far smaller): a reply
  // beyond either drops the connection.
  static constexpr std::size_t kMaxReplyBytes = 32 * 1024 * 1024;
  static constexpr std::size_t kMaxReplyElements = 1024;

  RedisConnection(EventLoop& loop, RedisConnectionHandler& handler)
      : loop_(loop), handler_(handler) {}
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts connecting (closing any previous connection first). The outcome comes to the
  // handler; false with `error` set if not even the attempt could start.
  bool connect(const RedisAddress& address, std::string& error);
  // Drops the connection now, with whatever is unsent or unanswered; no callback follows.
  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return context_ != nullptr; }
  [[nodiscard]] bool is_connected() const noexcept { return context_ != nullptr && connected_; }

  // Writes what is queued as far as the socket takes it, now rather than next turn: for
  // the last words before the process exits.
  void flush_now() noexcept;

  // Queues a command; its reply reaches on_redis_reply. False if there is no connection.
  bool command(std::span<const std::string_view> arguments);

  void on_events(std::uint32_t events) override;

 private:
  // hiredis callbacks; `data` / ac->data is the RedisConnection.
  static void on_connect(const redisAsyncContext* context, int status);
  static void on_disconnect(const redisAsyncContext* context, int status);
  static void on_reply(redisAsyncContext* context, void* reply, void* data);
  static void add_read(void* data);
  static void del_read(void* data);
  static void add_write(void* data);
  static void del_write(void* data);
  static void cleanup(void* data);

  // At most this many of hiredis's 16 KiB reads per turn, so a flood from Redis cannot
  // keep the loop from the clients.
  static constexpr int kReadsPerTurn = 16;

  void add_interest(std::uint32_t event) noexcept;
  void remove_interest(std::uint32_t event) noexcept;
  void set_interest(std::uint32_t interest);
  // hiredis is done with the context (it frees it after this): forget it.
  void forget(const redisAsyncContext* context, std::string_view why);

  EventLoop& loop_;
  RedisConnectionHandler& handler_;
  redisAsyncContext* context_ = nullptr;
  int watched_fd_ = -1;
  std::uint32_t interest_ = 0;
  bool connected_ = false;
};

}  // namespace epollchat::cluster
