#include "cluster/cluster_member.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <utility>

namespace epollchat::test {
namespace {

// Adds the names of a ", "-separated list to `names`.
void add_names(std::string_view list, std::multiset<std::string>& names) {
  std::vector<std::string> listed_names;
  lines::append_listed_names(list, listed_names);
  names.insert(listed_names.begin(), listed_names.end());
}

std::string listed(const std::multiset<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

// Reads the rest of a /who reply whose first line is `first` (see lines::parse_who_head) into
// `reply`. Returns what went wrong, or "".
std::string read_who_reply(ClusterMember& member, std::string_view first, const Deadline& deadline,
                           WhoReply& reply) {
  const lines::WhoHead head = *lines::parse_who_head(first);
  add_names(first.substr(head.names_at), reply.names);
  while (reply.names.size() < static_cast<std::size_t>(head.count)) {
    const auto more = member.client.read_line(deadline.remaining());
    if (!more || !more->starts_with("*** ")) {
      return member.name + ": /who reply ended after " + std::to_string(reply.names.size()) +
             " of " + std::to_string(head.count) + " names";
    }
    add_names(std::string_view(*more).substr(4), reply.names);
  }
  reply.count = head.count;
  return {};
}

}  // namespace

ClusterMember connect_member(std::uint16_t port, ConnectOptions options) {
  ChatClient client(port, std::move(options));
  const auto line = client.read_line();
  if (!line) {
    throw std::runtime_error(client.peer_closed() ? "closed before the welcome line"
                                                  : "no welcome line within the timeout");
  }
  if (!line->starts_with(lines::kWelcomePrefix) || line->size() == lines::kWelcomePrefix.size()) {
    throw std::runtime_error("first line is not a welcome: \"" + escape_bytes(*line) + "\"");
  }
  std::string name = line->substr(lines::kWelcomePrefix.size());
  return {std::move(client), std::move(name)};
}

::testing::AssertionResult take_nickname(ClusterMember& member, std::string_view nickname,
                                         std::chrono::milliseconds timeout) {
  member.client.send("/nick " + std::string(nickname) + "\n");
  auto confirmed = member.client.skip_until_line(lines::now_known_as(nickname), timeout);
  if (confirmed) member.name = nickname;
  return confirmed;
}

::testing::AssertionResult expect_line_at_each(const std::vector<ClusterMember*>& members,
                                               std::string_view line,
                                               std::chrono::milliseconds timeout) {
  std::string failures;
  for (ClusterMember* member : members) {
    if (auto seen = member->client.expect_line(line, timeout); !seen) {
      failures += member->name + ": " + seen.message() + "\n";
    }
  }
  if (failures.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failures;
}

::testing::AssertionResult take_nickname_seen_by(ClusterMember& member, std::string_view nickname,
                                                 const std::vector<ClusterMember*>& others,
                                                 std::chrono::milliseconds timeout) {
  const std::string old_name = member.name;
  if (auto taken = take_nickname(member, nickname, timeout); !taken) return taken;
  return expect_line_at_each(others, lines::known_as(old_name, nickname), timeout);
}

::testing::AssertionResult join_room(ClusterMember& member, std::string_view room, int online,
                                     std::chrono::milliseconds timeout) {
  member.client.send("/join " + std::string(room) + "\n");
  return member.client.expect_line(lines::now_in(room, online), timeout);
}

::testing::AssertionResult expect_nothing_before_marker(ClusterMember& from, ClusterMember& to,
                                                        std::string_view marker,
                                                        std::chrono::milliseconds timeout) {
  from.client.send(std::string(marker) + "\n");
  return to.client.expect_line(lines::says(from.name, marker), timeout);
}

std::string query_rooms(ClusterMember& member, const Deadline& deadline) {
  member.client.send("/rooms\n");
  while (const auto line = member.client.read_line(deadline.remaining())) {
    if (line->starts_with("*** Rooms: ")) return *line;
  }
  return {};
}

::testing::AssertionResult settle(const std::vector<ClusterMember*>& members,
                                  std::string_view expected_rooms,
                                  std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (ClusterMember* member : members) {
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

::testing::AssertionResult settle_in_lobby(const std::vector<ClusterMember*>& members,
                                           std::chrono::milliseconds timeout) {
  return settle(members, lines::lobby_rooms_reply(members.size()), timeout);
}

WhoReply query_who(ClusterMember& member, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  member.client.send("/who\n");
  WhoReply reply;
  const auto first = member.client.read_line(deadline.remaining());
  if (!first || !lines::parse_who_head(*first)) {
    ADD_FAILURE() << member.name << ": expected a /who reply, got "
                  << (first ? "\"" + escape_bytes(*first) + "\"" : std::string("nothing"));
    return reply;
  }
  if (const std::string problem = read_who_reply(member, *first, deadline, reply);
      !problem.empty()) {
    ADD_FAILURE() << problem;
  }
  return reply;
}

::testing::AssertionResult who_lists(ClusterMember& asker, const std::multiset<std::string>& names,
                                     std::chrono::milliseconds timeout) {
  const WhoReply who = query_who(asker, timeout);
  if (who.count == static_cast<int>(names.size()) && who.names == names) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << asker.name << ": /who counts " << who.count << " and lists {" << listed(who.names)
         << "}, expected " << names.size() << ": {" << listed(names) << "}";
}

::testing::AssertionResult wait_for_who(ClusterMember& asker,
                                        const std::multiset<std::string>& names,
                                        std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  std::string last = "no reply";
  while (!deadline.has_expired()) {
    asker.client.send("/who\n");
    std::optional<std::string> line;
    while ((line = asker.client.read_line(deadline.remaining())) && !lines::parse_who_head(*line)) {
    }
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

std::optional<bool> try_nickname(ClusterMember& member, std::string_view nickname,
                                 std::chrono::milliseconds timeout) {
  const std::string name(nickname);
  member.client.send("/nick " + name + "\n");
  const Deadline deadline(timeout);
  while (const auto line = member.client.read_line(deadline.remaining())) {
    if (*line == lines::now_known_as(name) || *line == lines::already_known_as(name)) {
      member.name = name;
      return true;
    }
    if (*line == lines::nickname_taken(name)) return false;
  }
  return std::nullopt;
}

::testing::AssertionResult wait_for_nickname(ClusterMember& member, std::string_view nickname,
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

Drain::Drain(ClusterMember& member)
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
