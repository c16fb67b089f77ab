#include "cluster/cluster_member.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace epollchat::test {
namespace {

// Splits "a, b, c" into its names.
void add_names(std::string_view list, std::multiset<std::string>& names) {
  while (!list.empty()) {
    const auto comma = list.find(", ");
    names.emplace(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 2);
  }
}

}  // namespace

ClusterMember connect_member(std::uint16_t port) {
  ChatClient client(port);
  const auto line = client.read_line();
  if (!line) {
    throw std::runtime_error(client.peer_closed() ? "closed before the welcome line"
                                                  : "no welcome line within the timeout");
  }
  if (!line->starts_with(cluster_lines::kWelcomePrefix) ||
      line->size() == cluster_lines::kWelcomePrefix.size()) {
    throw std::runtime_error("first line is not a welcome: \"" + escape_bytes(*line) + "\"");
  }
  std::string name = line->substr(cluster_lines::kWelcomePrefix.size());
  return {std::move(client), std::move(name)};
}

::testing::AssertionResult take_nickname(ClusterMember& member, std::string_view nickname,
                                         std::chrono::milliseconds timeout) {
  member.client.send("/nick " + std::string(nickname) + "\n");
  auto confirmed = member.client.skip_until_line(
      "*** You are now known as " + std::string(nickname) + ".", timeout);
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
  return expect_line_at_each(others, cluster_lines::known_as(old_name, nickname), timeout);
}

::testing::AssertionResult join_room(ClusterMember& member, std::string_view room, int online,
                                     std::chrono::milliseconds timeout) {
  member.client.send("/join " + std::string(room) + "\n");
  return member.client.expect_line(cluster_lines::now_in(room, online), timeout);
}

::testing::AssertionResult expect_nothing_before_marker(ClusterMember& from, ClusterMember& to,
                                                        std::string_view marker,
                                                        std::chrono::milliseconds timeout) {
  from.client.send(std::string(marker) + "\n");
  return to.client.expect_line(cluster_lines::says(from.name, marker), timeout);
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
  return settle(members, cluster_lines::lobby_rooms_reply(members.size()), timeout);
}

WhoReply query_who(ClusterMember& member, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  member.client.send("/who\n");
  WhoReply reply;
  const auto first = member.client.read_line(deadline.remaining());
  const auto online = first ? first->find(" online: ") : std::string::npos;
  if (!first || !first->starts_with("*** ") || online == std::string::npos) {
    ADD_FAILURE() << member.name << ": expected a /who reply, got "
                  << (first ? "\"" + escape_bytes(*first) + "\"" : std::string("nothing"));
    return reply;
  }
  int count = 0;
  const auto [end, error] = std::from_chars(first->data() + 4, first->data() + online, count);
  if (error != std::errc{} || end != first->data() + online) {
    ADD_FAILURE() << member.name << ": malformed /who reply \"" << escape_bytes(*first) << "\"";
    return reply;
  }
  add_names(std::string_view(*first).substr(online + 9), reply.names);
  while (reply.names.size() < static_cast<std::size_t>(count)) {
    const auto more = member.client.read_line(deadline.remaining());
    if (!more || !more->starts_with("*** ")) {
      ADD_FAILURE() << member.name << ": /who reply ended after " << reply.names.size() << " of "
                    << count << " names";
      return reply;
    }
    add_names(std::string_view(*more).substr(4), reply.names);
  }
  reply.count = count;
  return reply;
}

::testing::AssertionResult who_lists(ClusterMember& asker, const std::multiset<std::string>& names,
                                     std::chrono::milliseconds timeout) {
  const WhoReply who = query_who(asker, timeout);
  if (who.count == static_cast<int>(names.size()) && who.names == names) {
    return ::testing::AssertionSuccess();
  }
  const auto listed = [](const std::multiset<std::string>& list) {
    std::string joined;
    for (const auto& name : list) joined += (joined.empty() ? "" : ", ") + name;
    return joined;
  };
  return ::testing::AssertionFailure()
         << asker.name << ": /who counts " << who.count << " and lists {" << listed(who.names)
         << "}, expected " << names.size() << ": {" << listed(names) << "}";
}

}  // namespace epollchat::test
