// FdStore: the service manager's file descriptor store, where the daemon's sockets outlive
// its process, so that a restart keeps every client connected (see systemd.service(5),
// FileDescriptorStoreMax=, and sd_pid_notify_with_fds(3)).
//
// What is stored, by FDNAME=: "listener" and "tls-listener", the listening sockets the
// daemon bound itself; "client-<id>", each plain client's socket; "state", the sessions a
// planned restart hands on, in a sealed memfd. The next process finds them all, by name,
// among the descriptors it is passed at start.
//
// Owns: the names this process knows to be in the store (to count them against the
// store's size and to empty it on a real stop). Never: holds descriptors; the store keeps
// copies, and the callers keep their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "chat/socket_keeper.hpp"
#include "core/log.hpp"
#include "core/repeated_log.hpp"

namespace epollchat::daemon {

inline constexpr std::string_view kStoredListenerName = "listener";
inline constexpr std::string_view kStoredTlsListenerName = "tls-listener";
inline constexpr std::string_view kStoredStateName = "state";
// "client-42" for client 42.
[[nodiscard]] std::string stored_client_name(std::uint64_t client_id);
// The client id of a "client-<id>" name.
[[nodiscard]] std::optional<std::uint64_t> stored_client_id(std::string_view name);

// The bytes of a stored state: a sealed memfd of at most `max_bytes`. Throws
// chat::SavedStateError saying why it cannot be used.
[[nodiscard]] std::string read_stored_state(int fd, std::size_t max_bytes);

class FdStore final : public chat::SocketKeeper {
 public:
  // The size of the store the service manager offers, from $FDSTORE (which systemd 254
  // and later set from FileDescriptorStoreMax=, and the packaged unit sets for older
  // ones); 0 without $NOTIFY_SOCKET or a positive $FDSTORE.
  [[nodiscard]] static std::size_t capacity_from_environment();

  // With `capacity` 0 nothing is stored, but what was passed in can still be removed.
  FdStore(const Log& log, std::size_t capacity);

  [[nodiscard]] bool is_in_use() const noexcept { return capacity_ > 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // `name` was passed in at start: it is in the store already.
  void adopt(std::string_view name) { names_.emplace(name); }
  // Stores a copy of `fd` under `name`. False when the store is full (one place is always
  // left for the state).
  bool store(std::string_view name, int fd);
  // Closes the store's copies of `name`.
  void remove(std::string_view name);
  // Removes everything this process knows to be in the store: a real stop.
  void clear();

  // Puts `state` into a sealed memfd, stores it as "state", and returns once the service
  // manager has it (or after a few seconds, if it never says). Throws std::system_error.
  void store_state(std::string_view state);

  void keep(std::uint64_t client_id, int fd) override;
  void release(std::uint64_t client_id) override;

 private:
  const Log& log_;
  std::size_t capacity_;
  std::unordered_set<std::string> names_;
  RepeatedLog full_log_;
};

}  // namespace epollchat::daemon
