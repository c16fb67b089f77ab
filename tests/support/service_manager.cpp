#include "support/service_manager.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "core/socket.hpp"

namespace epollchat::test {
namespace {

constexpr std::uint64_t kNotifyKey = 0;
constexpr std::uint64_t kWakeKey = 1;
// SCM_MAX_FD: the most fds one datagram can carry.
constexpr std::size_t kMaxFdsPerMessage = 253;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::runtime_error launch_failure(const std::string& what, const std::string& log) {
  return std::runtime_error("epollchatd " + what + "; its stderr:\n" + log);
}

rlim_t capped_to_hard_limit(rlim_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  return std::min(wanted, limit.rlim_max);
}

void add_to_epoll(int epoll_fd, int fd, std::uint32_t events, std::uint64_t key) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = key;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl ADD");
}

}  // namespace

ServiceManager::ServiceManager(ServiceManagerOptions options)
    : options_(std::move(options)),
      config_path_(dir_.write("epollchatd.conf", options_.config_text).string()),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!epoll_) throw_errno("epoll_create1");
  for (std::size_t i = 0; i < options_.activated_names.size(); ++i) {
    activated_.push_back(listen_tcp(*epollchat::SocketAddress::from_numeric("127.0.0.1", 0), 128));
  }
  if (!wake_) throw_errno("eventfd");
  add_to_epoll(epoll_.get(), notify_.fd(), EPOLLIN, kNotifyKey);
  add_to_epoll(epoll_.get(), wake_.get(), EPOLLIN, kWakeKey);
  reader_ = std::thread([this] { run_reader(); });
  try {
    launch();
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof one);
    reader_.join();
    throw;
  }
}

ServiceManager::~ServiceManager() {
  if (child_ && !child_->has_exited()) {
    try {
      child_->send_signal(SIGTERM);
      child_->wait_exit(options_.stop_timeout);
    } catch (const std::exception&) {
      // Gone already; nothing to stop.
    }
  }
  // ChildProcess's destructor kills and reaps one that did not stop.
  child_.reset();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof one);
  reader_.join();
  for (const Launch& launch : launches_) {
    launch.output->wait_for_eof(std::chrono::seconds(2));
    check_daemon_log(launch.pid, launch.output->text());
  }
  if (!error_.empty()) ADD_FAILURE() << "the service manager failed: " << error_;
  for (StoredFd& stored : store_) {
    if (stored.key != 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stored.fd.get(), nullptr);
  }
}

std::uint16_t ServiceManager::port() const {
  if (listeners_.empty()) throw std::logic_error("port(): no READY=1 yet");
  return listeners_.front().port;
}

std::uint16_t ServiceManager::tls_port() const {
  const auto tls = parse_tls_listening_status(ready_status_);
  if (tls.empty()) throw std::logic_error("tls_port(): the daemon listens for no TLS clients");
  return tls.front().port;
}

std::uint16_t ServiceManager::activated_port(std::size_t index) const {
  return epollchat::SocketAddress::local_of(activated_.at(index).get()).port();
}

pid_t ServiceManager::pid() const { return child_->pid(); }

void ServiceManager::launch() {
  std::vector<std::string> argv{daemon_path(), "--listen", "127.0.0.1", "--port",
                                "0",           "-c",       config_path_};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  SpawnSpec spec;
  spec.argv = std::move(argv);
  spec.env = clean_environment();
  set_environment(spec.env, "NOTIFY_SOCKET", notify_.address());
  set_environment(spec.env, "DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent");
  if (options_.fd_store_max) {
    set_environment(spec.env, "FDSTORE", std::to_string(*options_.fd_store_max));
  }
  for (const auto& [key, value] : options_.env) set_environment(spec.env, key, value);
  spec.nofile_limit = capped_to_hard_limit(options_.nofile_limit);
  auto output = std::make_unique<OutputCapture>();
  spec.stdout_fd = output->write_fd();
  spec.stderr_fd = output->write_fd();

  std::size_t ready_from = 0;
  {
    // Held through the spawn: the reader thread must not close a stored fd (one that hung
    // up) while the child is being handed its number.
    std::lock_guard lock(mutex_);
    ready_from = messages_.size();
    std::string names;
    for (std::size_t i = 0; i < activated_.size(); ++i) {
      spec.passed_fds.push_back(activated_[i].get());
      names += (names.empty() ? "" : ":") + options_.activated_names[i];
    }
    for (const StoredFd& stored : store_) {
      spec.passed_fds.push_back(stored.fd.get());
      names += (names.empty() ? "" : ":") + stored.name;
    }
    if (!spec.passed_fds.empty()) {
      set_environment(spec.env, "LISTEN_FDS", std::to_string(spec.passed_fds.size()));
      set_environment(spec.env, "LISTEN_FDNAMES", names);
      spec.export_listen_pid = true;
    }
    child_ = std::make_unique<ChildProcess>(ChildProcess::spawn(spec));
  }
  output->close_write_end();
  launches_.push_back({child_->pid(), std::move(output)});
  wait_ready(ready_from);
}

void ServiceManager::wait_ready(std::size_t from) {
  const Deadline deadline(options_.ready_timeout);
  std::unique_lock lock(mutex_);
  for (;;) {
    for (std::size_t i = from; i < messages_.size(); ++i) {
      if (!messages_[i].has("READY=1")) continue;
      const std::string status = messages_[i].field("STATUS").value_or("");
      auto listeners = parse_listening_status(status);
      if (listeners.empty()) {
        throw launch_failure(
            "sent READY=1 without 'STATUS=Listening on ...': '" + messages_[i].text + "'",
            launches_.back().output->text());
      }
      listeners_ = std::move(listeners);
      ready_status_ = status;
      return;
    }
    from = messages_.size();
    if (child_->has_exited()) {
      lock.unlock();
      const auto status = child_->wait_exit(std::chrono::seconds(1));
      drain();
      lock.lock();
      if (std::any_of(messages_.begin() + static_cast<std::ptrdiff_t>(from), messages_.end(),
                      [](const NotifyMessage& message) { return message.has("READY=1"); })) {
        continue;  // READY=1 came just before the exit; the loop above takes it
      }
      launches_.back().output->wait_for_eof(std::chrono::seconds(2));
      throw launch_failure(
          (status ? status->describe() : std::string("exited")) + " before READY=1",
          launches_.back().output->text());
    }
    if (deadline.has_expired()) {
      throw launch_failure(
          "sent no READY=1 within " + std::to_string(options_.ready_timeout.count()) + " ms",
          launches_.back().output->text());
    }
    // Woken by each datagram; the slice bounds how late an exit without one is seen.
    changed_.wait_for(lock, std::min(deadline.remaining(), milliseconds(100)));
  }
}

ExitStatus ServiceManager::stop(int signal) {
  send_signal(signal);
  return wait_stopped();
}

ExitStatus ServiceManager::wait_stopped() {
  const auto status = child_->wait_exit(options_.stop_timeout);
  if (!status) {
    throw std::runtime_error("epollchatd did not exit within " +
                             std::to_string(options_.stop_timeout.count()) + " ms");
  }
  // Every datagram it sent is queued on the socket by now; take them all before relaunching.
  drain();
  // And its log is complete once the pipe reaches EOF.
  launches_.back().output->wait_for_eof(std::chrono::seconds(2));
  return *status;
}

void ServiceManager::relaunch() { launch(); }

ExitStatus ServiceManager::restart() {
  const ExitStatus status = stop(SIGTERM);
  relaunch();
  return status;
}

ExitStatus ServiceManager::kill_and_restart() {
  const ExitStatus status = stop(SIGKILL);
  relaunch();
  return status;
}

void ServiceManager::drain() {
  std::unique_lock lock(mutex_);
  const std::uint64_t request = ++drains_requested_;
  const std::uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof one) != sizeof one) throw_errno("write eventfd");
  const bool drained = changed_.wait_for(
      lock, options_.stop_timeout, [&] { return drains_done_ >= request || !error_.empty(); });
  if (!drained) throw std::runtime_error("the notify socket's reader did not answer");
  if (!error_.empty()) throw std::runtime_error("the service manager failed: " + error_);
}

void ServiceManager::run_reader() {
  std::array<epoll_event, 64> events{};
  for (;;) {
    const int ready =
        ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail(std::string("epoll_wait: ") + std::strerror(errno));
      return;
    }
    for (int i = 0; i < ready; ++i) {
      const std::uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
      if (key == kNotifyKey) {
        receive_all();
      } else if (key == kWakeKey) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto got = ::read(wake_.get(), &count, sizeof count);
        std::uint64_t request = 0;
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return;
          request = drains_requested_;
        }
        // Everything queued before the request was made is on the socket now.
        receive_all();
        std::lock_guard lock(mutex_);
        drains_done_ = std::max(drains_done_, request);
        changed_.notify_all();
      } else {
        drop_hung_up(key);
      }
    }
  }
}

void ServiceManager::receive_all() {
  for (;;) {
    std::array<char, 16384> buffer{};
    alignas(cmsghdr)
        std::array<char, CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage) + CMSG_SPACE(sizeof(ucred))>
            control{};
    iovec vector{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t got = ::recvmsg(notify_.fd(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail(std::string("recvmsg: ") + std::strerror(errno));
      return;
    }
    std::vector<UniqueFd> fds;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
        fds.emplace_back(fd);
      }
    }
    if ((message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
      fail("a notify datagram was truncated (flags " + std::to_string(message.msg_flags) + ")");
    }
    handle(std::string(buffer.data(), static_cast<std::size_t>(got)), std::move(fds));
  }
}

void ServiceManager::handle(const std::string& text, std::vector<UniqueFd> fds) {
  NotifyMessage message{text, Clock::now()};
  std::lock_guard lock(mutex_);
  if (message.has("FDSTORE=1")) {
    const std::string name = message.field("FDNAME").value_or("stored");
    const bool poll = !message.has("FDPOLL=0");
    for (UniqueFd& fd : fds) store(name, std::move(fd), poll);
  } else if (message.has("FDSTOREREMOVE=1")) {
    if (const auto name = message.field("FDNAME")) remove_stored(*name);
  }
  // Fds on any other message (BARRIER=1's pipe) close here, at once: closing it is the
  // answer the daemon waits for.
  fds.clear();
  messages_.push_back(std::move(message));
  changed_.notify_all();
}

void ServiceManager::store(const std::string& name, UniqueFd fd, bool poll) {
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    fail_locked("fstat of a stored fd: " + std::string(std::strerror(errno)));
    return;
  }
  const bool known = std::any_of(store_.begin(), store_.end(), [&](const StoredFd& stored) {
    return stored.device == info.st_dev && stored.inode == info.st_ino;
  });
  // systemd keeps a file once, under the name it was first stored with, and refuses fds
  // beyond FileDescriptorStoreMax=.
  if (known || store_.size() >= options_.fd_store_max.value_or(0)) return;
  StoredFd& stored = store_.emplace_back();
  stored.name = name;
  stored.device = info.st_dev;
  stored.inode = info.st_ino;
  if (poll) {
    // No events asked for: epoll reports EPOLLHUP and EPOLLERR regardless.
    epoll_event event{};
    event.data.u64 = next_key_;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &event) == 0) {
      stored.key = next_key_++;
    } else if (errno != EPERM) {  // EPERM: a regular file, which cannot hang up
      fail_locked("epoll_ctl ADD of a stored fd: " + std::string(std::strerror(errno)));
    }
  }
  stored.fd = std::move(fd);
}

void ServiceManager::remove_stored(std::string_view name) {
  std::erase_if(store_, [&](StoredFd& stored) {
    if (stored.name != name) return false;
    // Before the close: the daemon holds the same file, so closing alone would leave it in
    // the epoll set.
    if (stored.key != 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stored.fd.get(), nullptr);
    return true;
  });
}

void ServiceManager::drop_hung_up(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  std::erase_if(store_, [&](StoredFd& stored) {
    if (stored.key != key) return false;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stored.fd.get(), nullptr);
    return true;
  });
  changed_.notify_all();
}

std::vector<std::string> ServiceManager::stored_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const StoredFd& stored : store_) names.push_back(stored.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::size_t ServiceManager::stored_count(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      store_.begin(), store_.end(), [&](const StoredFd& stored) { return stored.name == name; }));
}

bool ServiceManager::wait_for_store(
    const std::function<bool(const std::vector<std::string>&)>& condition,
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    std::vector<std::string> names;
    for (const StoredFd& stored : store_) names.push_back(stored.name);
    std::sort(names.begin(), names.end());
    return condition(names);
  });
}

std::optional<std::string> ServiceManager::stored_state() const {
  std::lock_guard lock(mutex_);
  const auto found = std::find_if(store_.begin(), store_.end(),
                                  [](const StoredFd& stored) { return stored.name == "state"; });
  if (found == store_.end()) return std::nullopt;
  std::string bytes;
  std::array<char, 65536> buffer{};
  for (off_t offset = 0;;) {
    const ssize_t got = ::pread(found->fd.get(), buffer.data(), buffer.size(), offset);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno("pread state");
    }
    if (got == 0) return bytes;
    bytes.append(buffer.data(), static_cast<std::size_t>(got));
    offset += got;
  }
}

std::optional<int> ServiceManager::stored_state_seals() const {
  std::lock_guard lock(mutex_);
  const auto found = std::find_if(store_.begin(), store_.end(),
                                  [](const StoredFd& stored) { return stored.name == "state"; });
  if (found == store_.end()) return std::nullopt;
  return ::fcntl(found->fd.get(), F_GET_SEALS);
}

void ServiceManager::replace_state(std::string_view bytes) {
  UniqueFd memfd(::memfd_create("state", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) throw_errno("memfd_create");
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t put = ::write(memfd.get(), bytes.data() + done, bytes.size() - done);
    if (put < 0) {
      if (errno == EINTR) continue;
      throw_errno("write memfd");
    }
    done += static_cast<std::size_t>(put);
  }
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) !=
      0) {
    throw_errno("seal memfd");
  }
  std::lock_guard lock(mutex_);
  remove_stored("state");
  store("state", std::move(memfd), false);
  changed_.notify_all();
}

std::vector<NotifyMessage> ServiceManager::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

std::size_t ServiceManager::message_count() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

std::optional<NotifyMessage> ServiceManager::wait_for_message(
    const std::function<bool(const NotifyMessage&)>& matches, std::chrono::milliseconds timeout,
    std::size_t from) {
  std::unique_lock lock(mutex_);
  std::optional<NotifyMessage> found;
  changed_.wait_for(lock, timeout, [&] {
    for (; from < messages_.size(); ++from) {
      if (matches(messages_[from])) {
        found = messages_[from];
        return true;
      }
    }
    return false;
  });
  return found;
}

std::string ServiceManager::log() const {
  std::string text;
  for (const Launch& launch : launches_) {
    text += "---- pid " + std::to_string(launch.pid) + " ----\n" + launch.output->text();
  }
  return text;
}

bool ServiceManager::wait_for_log(std::string_view needle,
                                  std::chrono::milliseconds timeout) const {
  return launches_.back().output->wait_for(needle, timeout);
}

std::string ServiceManager::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void ServiceManager::fail(const std::string& what) {
  std::lock_guard lock(mutex_);
  fail_locked(what);
}

void ServiceManager::fail_locked(const std::string& what) {
  if (error_.empty()) error_ = what;
  changed_.notify_all();
}

}  // namespace epollchat::test
