#include "cluster/cluster_member.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>

namespace epollchat::test {

::testing::AssertionResult settle(const std::vector<Member*>& members,
                                  std::string_view expected_rooms,
                                  std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (Member* member : members) {
    std::string last;
    for (;;) {
      last = query_rooms(*member, deadline);
      if (last == expected_rooms) break;
      if (deadline.has_expired()) {
        return ::testing::AssertionFailure()
               << member->name << ": /rooms still says \"" << escape_bytes(last) << "\" after "
               << timeout.count() << " ms, expected \"" << expected_rooms << "\"";
      }
      // Not settled yet: give the cluster a moment, waking early for any line (a notice
      // of the very change being waited for).
      member->client.read_line(std::min(deadline.remaining(), milliseconds(50)));
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult settle_in_lobby(const std::vector<Member*>& members,
                                           std::chrono::milliseconds timeout) {
  return settle(members, lines::lobby_rooms_reply(members.size()), timeout);
}

::testing::AssertionResult wait_for_nickname(Member& member, std::string_view nickname,
                                             std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  int refusals = 0;
  while (!deadline.has_expired()) {
    const auto holds = try_nickname(member, nickname, deadline.remaining());
    if (!holds) break;
    if (*holds) return ::testing::AssertionSuccess();
    ++refusals;
    member.client.read_line(std::min(deadline.remaining(), milliseconds(100)));
  }
  return ::testing::AssertionFailure()
         << member.name << ": nickname " << nickname << " still not free after " << timeout.count()
         << " ms (refused " << refusals << " times)";
}

::testing::AssertionResult wait_for_who(Member& asker, const std::multiset<std::string>& names,
                                        std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  std::string last = "no reply";
  while (!deadline.has_expired()) {
    asker.client.send("/who\n");
    const auto line = asker.client.skip_until(
        [](std::string_view seen) { return lines::parse_who_head(seen).has_value(); },
        deadline.remaining());
    if (!line) break;
    WhoReply who;
    if (std::string problem = read_who_reply(asker, *line, deadline, who); !problem.empty()) {
      return ::testing::AssertionFailure() << problem;
    }
    if (who.names == names) return ::testing::AssertionSuccess();
    last = std::to_string(who.count) + ": {" + listed(who.names) + "}";
    asker.client.read_line(std::min(deadline.remaining(), milliseconds(100)));
  }
  return ::testing::AssertionFailure()
         << asker.name << ": /who still lists " << last << " after " << timeout.count()
         << " ms, expected " << names.size() << ": {" << listed(names) << "}";
}

Drain::Drain(Member& member)
    : thread_([this, fd = member.client.fd()](const std::stop_token& stop) {
        std::vector<char> buffer(64 * 1024);
        while (!stop.stop_requested()) {
          pollfd entry{fd, POLLIN, 0};
          if (::poll(&entry, 1, 50) <= 0) continue;  // nothing yet, or EINTR
          const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
          if (got > 0) {
            bytes_ += static_cast<std::size_t>(got);
          } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            return;  // the server closed the connection
          }
        }
      }) {}

Drain::~Drain() = default;

}  // namespace epollchat::test
