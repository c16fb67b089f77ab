#include "daemon/fd_store.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "chat/saved_state.hpp"
#include "core/counted.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::daemon {
namespace {

constexpr std::string_view kClientPrefix = "client-";
// How long to wait for the service manager to confirm it holds the state: it answers in
// microseconds unless it is gone, and the stop must not hang on it.
constexpr std::uint64_t kBarrierTimeoutUsec = 5'000'000;

void send_with_fd(const std::string& message, int fd) {
  // Failures are not actionable here: without the copy, the client reconnects after a
  // restart, which is what happens without a store at all.
  (void)sd_pid_notify_with_fds(0, 0, message.c_str(), &fd, 1);
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "write saved state");
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

std::string stored_client_name(std::uint64_t client_id) {
  return std::string(kClientPrefix) + std::to_string(client_id);
}

std::optional<std::uint64_t> stored_client_id(std::string_view name) {
  if (!name.starts_with(kClientPrefix)) return std::nullopt;
  name.remove_prefix(kClientPrefix.size());
  std::uint64_t id = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (error != std::errc() || end != name.data() + name.size() || name.empty()) {
    return std::nullopt;
  }
  return id;
}

std::string read_stored_state(int fd, std::size_t max_bytes) {
  // Unsealed, the bytes could change while they are read, or after they were checked.
  constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  const int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & kSeals) != kSeals) {
    throw chat::SavedStateError("not a sealed memory file");
  }
  struct stat status {};
  if (fstat(fd, &status) < 0) throw chat::SavedStateError(std::strerror(errno));
  const auto size = static_cast<std::size_t>(status.st_size);
  if (size > max_bytes) {
    throw chat::SavedStateError(std::to_string(size) +
                                " bytes, more than this daemon's limits allow (" +
                                std::to_string(max_bytes) + ")");
  }
  std::string bytes(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = pread(fd, bytes.data() + done, size - done, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw chat::SavedStateError(got < 0 ? std::strerror(errno) : "truncated");
    done += static_cast<std::size_t>(got);
  }
  return bytes;
}

std::size_t FdStore::capacity_from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  const char* size = std::getenv("FDSTORE");
  if (socket == nullptr || *socket == '\0' || size == nullptr) return 0;
  const std::string_view text(size);
  std::size_t capacity = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), capacity);
  if (error != std::errc() || end != text.data() + text.size()) return 0;
  return capacity;
}

FdStore::FdStore(const Log& log, std::size_t capacity)
    : log_(log), capacity_(capacity), full_log_(log, LogLevel::warning) {}

bool FdStore::store(std::string_view name, int fd) {
  if (capacity_ == 0) return false;
  if (names_.size() + 1 >= capacity_) {
    full_log_.write("the file descriptor store is full (" +
                    counted(capacity_, "descriptor", "descriptors") +
                    "): clients beyond it reconnect after a restart");
    return false;
  }
  send_with_fd("FDSTORE=1\nFDNAME=" + std::string(name), fd);
  names_.emplace(name);
  return true;
}

void FdStore::remove(std::string_view name) {
  const auto found = names_.find(std::string(name));
  if (found == names_.end()) return;
  names_.erase(found);
  (void)sd_notify(0, ("FDSTOREREMOVE=1\nFDNAME=" + std::string(name)).c_str());
}

void FdStore::clear() {
  for (const std::string& name : names_) {
    (void)sd_notify(0, ("FDSTOREREMOVE=1\nFDNAME=" + name).c_str());
  }
  names_.clear();
}

void FdStore::store_state(std::string_view state) {
  const UniqueFd memory(memfd_create("epollchatd-state", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memory) throw std::system_error(errno, std::generic_category(), "memfd_create");
  write_all(memory.get(), state);
  // Sealed, so that the next process reads exactly what this one wrote.
  if (fcntl(memory.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
      0) {
    throw std::system_error(errno, std::generic_category(), "seal saved state");
  }
  // FDPOLL=0: a memfd has nothing to hang up.
  send_with_fd("FDSTORE=1\nFDNAME=" + std::string(kStoredStateName) + "\nFDPOLL=0", memory.get());
  // The process exits next: the manager must have taken the state before it sees the exit.
  const int barrier = sd_notify_barrier(0, kBarrierTimeoutUsec);
  if (barrier < 0) {
    log_.warning(std::string("the service manager did not confirm the saved state: ") +
                 std::strerror(-barrier));
  }
}

void FdStore::keep(std::uint64_t client_id, int fd) {
  (void)store(stored_client_name(client_id), fd);
}

void FdStore::release(std::uint64_t client_id) { remove(stored_client_name(client_id)); }

}  // namespace epollchat::daemon
