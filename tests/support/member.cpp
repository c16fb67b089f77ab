#include "support/member.hpp"

#include <stdexcept>
#include <utility>

#include "support/protocol_lines.hpp"

namespace epollchat::test {

Member read_welcome(ChatClient client) {
  const auto line = client.read_line();
  if (!line) {
    throw std::runtime_error(client.peer_closed() ? "closed before the welcome line"
                                                  : "no welcome line within the timeout");
  }
  const auto name = lines::parse_welcome_name(*line);
  if (!name)
    throw std::runtime_error("first line is not a welcome: \"" + escape_bytes(*line) + "\"");
  const int id = lines::parse_client_id(*name).value_or(0);
  return {std::move(client), std::string(*name), id};
}

Member join(std::uint16_t port, ConnectOptions options) {
  return read_welcome(ChatClient(port, std::move(options)));
}

std::vector<Member> join_quiet(std::uint16_t port, std::size_t count) {
  std::vector<Member> members;
  members.reserve(count);
  for (std::size_t i = 0; i < count; ++i) members.push_back(join(port));
  for (std::size_t later = 1; later < count; ++later) {
    const int online = static_cast<int>(later + 1);
    for (std::size_t earlier = 0; earlier < later; ++earlier) {
      const auto told =
          members[earlier].client.expect_line(lines::joined(members[later].name, online));
      if (!told) {
        throw std::runtime_error(members[earlier].name + " was not told that " +
                                 members[later].name + " joined: " + told.message());
      }
    }
  }
  return members;
}

::testing::AssertionResult expect_line_at_each(const std::vector<Member*>& members,
                                               std::string_view line,
                                               std::chrono::milliseconds timeout) {
  std::string failures;
  for (Member* member : members) {
    if (auto seen = member->client.expect_line(line, timeout); !seen) {
      failures += member->name + ": " + seen.message() + "\n";
    }
  }
  if (failures.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failures;
}

::testing::AssertionResult take_nickname(Member& member, std::string_view nickname,
                                         std::chrono::milliseconds timeout) {
  member.client.send("/nick " + std::string(nickname) + "\n");
  auto confirmed = member.client.skip_until_line(lines::now_known_as(nickname), timeout);
  if (confirmed) member.name = nickname;
  return confirmed;
}

std::optional<bool> try_nickname(Member& member, std::string_view nickname,
                                 std::chrono::milliseconds timeout) {
  const std::string name(nickname);
  member.client.send("/nick " + name + "\n");
  const std::string taken = lines::now_known_as(name);
  const std::string held = lines::already_known_as(name);
  const std::string refused = lines::nickname_taken(name);
  const auto answer = member.client.skip_until(
      [&](std::string_view line) { return line == taken || line == held || line == refused; },
      timeout);
  if (!answer) return std::nullopt;
  if (*answer == refused) return false;
  member.name = name;
  return true;
}

::testing::AssertionResult take_nickname_seen_by(Member& member, std::string_view nickname,
                                                 const std::vector<Member*>& others,
                                                 std::chrono::milliseconds timeout) {
  const std::string old_name = member.name;
  if (auto taken = take_nickname(member, nickname, timeout); !taken) return taken;
  return expect_line_at_each(others, lines::known_as(old_name, nickname), timeout);
}

::testing::AssertionResult join_room(Member& member, std::string_view room, int online,
                                     std::chrono::milliseconds timeout) {
  member.client.send("/join " + std::string(room) + "\n");
  return member.client.expect_line(lines::now_in(room, online), timeout);
}

::testing::AssertionResult join_room_after_notices(Member& member, std::string_view room,
                                                   int online, std::chrono::milliseconds timeout) {
  member.client.send("/join " + std::string(room) + "\n");
  return member.client.skip_until_line(lines::now_in(room, online), timeout);
}

::testing::AssertionResult expect_nothing_before_marker(Member& from, Member& to,
                                                        std::string_view marker,
                                                        std::chrono::milliseconds timeout) {
  from.client.send(std::string(marker) + "\n");
  return to.client.expect_line(lines::says(from.name, marker), timeout);
}

std::string query_rooms(Member& member, const Deadline& deadline) {
  member.client.send("/rooms\n");
  return member.client
      .skip_until([](std::string_view line) { return line.starts_with("*** Rooms: "); },
                  deadline.remaining())
      .value_or("");
}

std::string read_who_reply(Member& member, std::string_view first, const Deadline& deadline,
                           WhoReply& reply) {
  const auto add_names = [&reply](std::string_view list) {
    std::vector<std::string> names;
    lines::append_listed_names(list, names);
    reply.names.insert(names.begin(), names.end());
  };
  const lines::WhoHead head = *lines::parse_who_head(first);
  add_names(first.substr(head.names_at));
  while (reply.names.size() < static_cast<std::size_t>(head.count)) {
    const auto more = member.client.read_line(deadline.remaining());
    if (!more || !more->starts_with("*** ")) {
      return member.name + ": /who reply ended after " + std::to_string(reply.names.size()) +
             " of " + std::to_string(head.count) + " names";
    }
    add_names(std::string_view(*more).substr(4));
  }
  reply.count = head.count;
  return {};
}

WhoReply query_who(Member& member, std::chrono::milliseconds timeout) {
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

::testing::AssertionResult who_lists(Member& asker, const std::multiset<std::string>& names,
                                     std::chrono::milliseconds timeout) {
  const WhoReply who = query_who(asker, timeout);
  if (who.count == static_cast<int>(names.size()) && who.names == names) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << asker.name << ": /who counts " << who.count << " and lists {" << listed(who.names)
         << "}, expected " << names.size() << ": {" << listed(names) << "}";
}

std::string listed(const std::multiset<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace epollchat::test
