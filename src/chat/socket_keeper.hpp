// SocketKeeper: somewhere outside the process that keeps client sockets open across a
// restart (the daemon's answer is systemd's file descriptor store).
//
// The server tells it of each plain client socket it takes on and of each one it lets go;
// encrypted ones are never kept, since their TLS state cannot leave the process.
#pragma once

#include <cstdint>

namespace epollchat::chat {

class SocketKeeper {
 public:
  // A new client `client_id` on `fd` (still owned by the server: the keeper keeps a copy).
  virtual void keep(std::uint64_t client_id, int fd) = 0;
  // Client `client_id` is gone: the copy must close too, or its peer never sees the end.
  virtual void release(std::uint64_t client_id) = 0;

 protected:
  ~SocketKeeper() = default;
};

}  // namespace epollchat::chat
