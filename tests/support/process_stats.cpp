#include "support/process_stats.hpp"

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace epollchat::test {
namespace {

std::string proc_path(pid_t pid, const std::string& entry) {
  return "/proc/" + std::to_string(pid) + "/" + entry;
}

// inode -> local port for LISTEN (state 0A) sockets in a /proc/net/tcp-format file.
std::map<unsigned long, std::uint16_t> listening_inodes(const std::string& path) {
  std::map<unsigned long, std::uint16_t> result;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    unsigned long inode = 0;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (!fields || state != "0A") continue;
    const auto colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    result[inode] = static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
  }
  return result;
}

}  // namespace

std::size_t resident_set_bytes(pid_t pid) {
  std::ifstream in(proc_path(pid, "status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) {
      std::istringstream fields(line.substr(6));
      std::size_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  throw std::runtime_error("no VmRSS in " + proc_path(pid, "status"));
}

std::size_t count_open_fds(pid_t pid) {
  const std::string path = proc_path(pid, "fd");
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) throw std::system_error(errno, std::generic_category(), "opendir " + path);
  std::size_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

std::string executable_path(pid_t pid) {
  char target[PATH_MAX];
  const std::string link = proc_path(pid, "exe");
  const ssize_t length = ::readlink(link.c_str(), target, sizeof target - 1);
  return length > 0 ? std::string(target, static_cast<std::size_t>(length)) : std::string();
}

bool runs_under_valgrind(pid_t pid) {
  return executable_path(pid).find("/valgrind/") != std::string::npos;
}

std::vector<ListeningSocket> listening_tcp_sockets(pid_t pid) {
  const auto v4 = listening_inodes(proc_path(pid, "net/tcp"));
  const auto v6 = listening_inodes(proc_path(pid, "net/tcp6"));
  const std::string dir_path = proc_path(pid, "fd");
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) {
    throw std::system_error(errno, std::generic_category(), "opendir " + dir_path);
  }
  std::vector<ListeningSocket> result;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char target[PATH_MAX];
    const std::string link = dir_path + "/" + entry->d_name;
    const ssize_t length = ::readlink(link.c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    const std::string_view text(target, static_cast<std::size_t>(length));
    constexpr std::string_view kSocket = "socket:[";
    if (!text.starts_with(kSocket) || !text.ends_with("]")) continue;
    unsigned long inode = 0;
    const auto digits = text.substr(kSocket.size(), text.size() - kSocket.size() - 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), inode);
    const int fd = std::stoi(entry->d_name);
    if (const auto it = v4.find(inode); it != v4.end()) result.push_back({fd, AF_INET, it->second});
    if (const auto it = v6.find(inode); it != v6.end())
      result.push_back({fd, AF_INET6, it->second});
  }
  ::closedir(dir);
  return result;
}

std::size_t settled_open_fds(pid_t pid) {
  std::size_t fewest = count_open_fds(pid);
  for (int sample = 1; sample < 5; ++sample) fewest = std::min(fewest, count_open_fds(pid));
  return fewest;
}

}  // namespace epollchat::test
