#include "cluster/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include <exception>
#include <string>
#include <vector>

namespace epollchat::cluster {
namespace {

RedisConnection& self(void* data) { return *static_cast<RedisConnection*>(data); }

// hiredis 0.14 has no reader limits of its own (maxbulklen and maxelements came in 1.0), so
// arrays are bounded by wrapping its reply constructors, and bulk strings by the size of
// the read buffer (on_events).
const redisReplyObjectFunctions* default_reply_functions = nullptr;

void* create_bounded_array(const redisReadTask* task, int elements) {
  if (elements < 0 || static_cast<std::size_t>(elements) > RedisConnection::kMaxReplyElements) {
    return nullptr;  // hiredis takes this for out of memory: a reader error, the link drops
  }
  return default_reply_functions->createArray(task, elements);
}

void bound_reader(redisReader& reader) {
  static redisReplyObjectFunctions bounded = [&reader] {
    default_reply_functions = reader.fn;
    redisReplyObjectFunctions functions = *reader.fn;
    functions.createArray = create_bounded_array;
    return functions;
  }();
  reader.fn = &bounded;
}

}  // namespace

RedisConnection::~RedisConnection() { close(); }

bool RedisConnection::connect(const RedisAddress& address, std::string& error) {
  close();
  redisAsyncContext* context = address.unix_path.empty()
                                   ? redisAsyncConnect(address.host.c_str(), address.port)
                                   : redisAsyncConnectUnix(address.unix_path.c_str());
  if (context == nullptr) {
    error = "out of memory";
    return false;
  }
  if (context->err != 0) {
    error = context->errstr;
    redisAsyncFree(context);
    return false;
  }
  bound_reader(*context->c.reader);
  context_ = context;
  connected_ = false;
  context->data = this;
  context->ev.data = this;
  context->ev.addRead = add_read;
  context->ev.delRead = del_read;
  context->ev.addWrite = add_write;
  context->ev.delWrite = del_write;
  context->ev.cleanup = cleanup;
  // Set after the adapter: hiredis asks for write interest here to learn when the
  // non-blocking connect completes.
  redisAsyncSetConnectCallback(context, on_connect);
  redisAsyncSetDisconnectCallback(context, on_disconnect);
  return true;
}

void RedisConnection::close() noexcept {
  redisAsyncContext* context = context_;
  if (context == nullptr) return;
  // Forgotten first: the callbacks redisAsyncFree makes (pending replies with no reply,
  // the disconnect) then find no context and stay silent. Its cleanup unwatches the fd.
  context_ = nullptr;
  connected_ = false;
  redisAsyncFree(context);
}

void RedisConnection::flush_now() noexcept {
  if (is_connected()) redisAsyncHandleWrite(context_);
}

bool RedisConnection::command(std::span<const std::string_view> arguments) {
  if (context_ == nullptr) return false;
  // hiredis copies the arguments into its output buffer at once.
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(arguments.size());
  lengths.reserve(arguments.size());
  for (const std::string_view argument : arguments) {
    pointers.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  return redisAsyncCommandArgv(context_, on_reply, nullptr, static_cast<int>(arguments.size()),
                               pointers.data(), lengths.data()) == REDIS_OK;
}

void RedisConnection::on_events(std::uint32_t events) {
  redisAsyncContext* context = context_;
  if (context == nullptr) return;
  const bool failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
  if ((interest_ & EPOLLIN) != 0 && ((events & EPOLLIN) != 0 || failed)) {
    // hiredis reads 16 KiB per call. Reading on while more is waiting lets one turn
    // deliver a burst from the other nodes in one flush per client, not one per 16 KiB.
    for (int reads = 0; reads < kReadsPerTurn; ++reads) {
      redisAsyncHandleRead(context);
      if (context_ != context) return;  // hiredis freed it
      const redisReader& reader = *context->c.reader;
      if (reader.len - reader.pos > kMaxReplyBytes) {
        // A reply this large is no message of epollchat's: a broken or hostile server.
        close();
        handler_.on_redis_disconnected(
            *this, "a reply over " + std::to_string(kMaxReplyBytes >> 20) + " MiB");
        return;
      }
      int waiting = 0;
      if (ioctl(context->c.fd, FIONREAD, &waiting) != 0 || waiting <= 0) break;
    }
  }
  if ((interest_ & EPOLLOUT) != 0 && ((events & EPOLLOUT) != 0 || failed)) {
    redisAsyncHandleWrite(context);
    if (context_ != context) return;
  }
  // Level-triggered: an error nobody asked about would be reported again at once.
  if (failed && (interest_ & (EPOLLIN | EPOLLOUT)) == 0) redisAsyncHandleRead(context);
}

void RedisConnection::set_interest(std::uint32_t interest) {
  interest_ = interest;
  if (watched_fd_ < 0) return;
  // Level-triggered: hiredis reads one buffer per call and expects to be called again.
  loop_.modify(watched_fd_, interest, *this);
}

void RedisConnection::forget(const redisAsyncContext* context, std::string_view why) {
  if (context_ != context) return;  // close() already forgot it: stay silent
  context_ = nullptr;
  connected_ = false;
  handler_.on_redis_disconnected(*this, why);
}

void RedisConnection::on_connect(const redisAsyncContext* context, int status) {
  RedisConnection& connection = self(context->data);
  if (connection.context_ != context) return;
  if (status != REDIS_OK) {
    // hiredis frees the context when this returns.
    connection.forget(context, context->errstr);
    return;
  }
  connection.connected_ = true;
  connection.handler_.on_redis_connected(connection);
}

void RedisConnection::on_disconnect(const redisAsyncContext* context, int status) {
  RedisConnection& connection = self(context->data);
  connection.forget(context, status == REDIS_OK ? "closed" : context->errstr);
}

void RedisConnection::on_reply(redisAsyncContext* context, void* reply, void* /*data*/) {
  RedisConnection& connection = self(context->data);
  // No reply: the context is being freed with this command unanswered.
  if (reply == nullptr || connection.context_ != context) return;
  connection.handler_.on_redis_reply(connection, *static_cast<const redisReply*>(reply));
}

void RedisConnection::add_interest(std::uint32_t event) noexcept {
  // Called from hiredis (C): nothing may throw through it. If epoll refuses (no memory),
  // the connection just gets no events; the link's reply timeout then drops it.
  try {
    if (watched_fd_ < 0 && context_ != nullptr) {
      watched_fd_ = context_->c.fd;
      interest_ = event;
      loop_.watch(watched_fd_, event, *this);
      return;
    }
    set_interest(interest_ | event);
  } catch (const std::exception&) {
  }
}

void RedisConnection::remove_interest(std::uint32_t event) noexcept {
  try {
    set_interest(interest_ & ~event);
  } catch (const std::exception&) {
  }
}

void RedisConnection::add_read(void* data) { self(data).add_interest(EPOLLIN); }

void RedisConnection::del_read(void* data) { self(data).remove_interest(EPOLLIN); }

void RedisConnection::add_write(void* data) { self(data).add_interest(EPOLLOUT); }

void RedisConnection::del_write(void* data) { self(data).remove_interest(EPOLLOUT); }

void RedisConnection::cleanup(void* data) {
  RedisConnection& connection = self(data);
  if (connection.watched_fd_ >= 0) connection.loop_.unwatch(connection.watched_fd_, connection);
  connection.watched_fd_ = -1;
  connection.interest_ = 0;
}

}  // namespace epollchat::cluster
