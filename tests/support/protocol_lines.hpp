// The server's protocol lines as the tests expect them, spelled out here (never computed by
// src/chat/protocol.hpp, the code under test) exactly as epollchatd(8) documents them, so that
// tests compare whole lines instead of fragments; and the readers of the lines whose content
// a test needs (a welcome's name, a chat line's sender, a /who reply's names).
//
// A name is "Client #3" on a single node, "Client #n2:1" on a node with a node id, or a
// nickname; the lines about a client come with the name or, on a single node, its id.
// Lines are without their LF.
//
// Header-only and free of the test support library: the unit tests of the protocol texts
// include it too.
#pragma once

#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epollchat::test::lines {

inline constexpr std::string_view kWelcomePrefix = "Welcome to the chat room! Your chat ID is: ";
inline constexpr std::string_view kSaysInfix = " says >> ";
inline constexpr std::string_view kAlone = "*** You are alone in the chat room.";
inline constexpr std::string_view kShuttingDown = "*** Server shutting down.";
inline constexpr std::string_view kRestartedReconnect = "*** Server restarted; please reconnect.";
inline constexpr std::string_view kLinkLost = "*** Link to other servers lost; chatting locally.";
inline constexpr std::string_view kLinkRestored = "*** Link restored.";
// Around the history a client joining a room reads first.
inline constexpr std::string_view kHistoryStart = "*** History:";
inline constexpr std::string_view kHistoryEnd = "*** End of history.";

// The name of client `id` on a single node: "Client #3".
inline std::string client_name(int id) { return "Client #" + std::to_string(id); }
// The name of client `number` on the node `node_id`: "Client #n2:1".
inline std::string client_name(std::string_view node_id, int number) {
  return "Client #" + std::string(node_id) + ":" + std::to_string(number);
}

inline std::string welcome(std::string_view name) {
  return std::string(kWelcomePrefix) + std::string(name);
}
inline std::string welcome(int id) { return welcome(client_name(id)); }

inline std::string joined(std::string_view name, int online) {
  return "*** " + std::string(name) + " joined (" + std::to_string(online) + " online)";
}
inline std::string joined(int id, int online) { return joined(client_name(id), online); }

// Without a reason; a /quit reason follows as ": REASON".
inline std::string left(std::string_view name, int online) {
  return "*** " + std::string(name) + " left (" + std::to_string(online) + " online)";
}
inline std::string left(int id, int online) { return left(client_name(id), online); }

inline std::string says(std::string_view name, std::string_view text) {
  return std::string(name) + std::string(kSaysInfix) + std::string(text);
}
inline std::string says(int id, std::string_view text) { return says(client_name(id), text); }

inline std::string action(std::string_view name, std::string_view text) {
  return "* " + std::string(name) + " " + std::string(text);
}
inline std::string whispers(std::string_view name, std::string_view text) {
  return std::string(name) + " whispers >> " + std::string(text);
}
inline std::string sent_to(std::string_view name) {
  return "*** Sent to " + std::string(name) + ".";
}
inline std::string no_such_user(std::string_view target) {
  return "*** No such user " + std::string(target) + ".";
}
inline std::string not_sent_to(std::string_view name) {
  return "*** Not sent to " + std::string(name) + ": the link to other servers is busy; try again.";
}

// What the others in the room are told when `old_name` takes the nickname `new_name`.
inline std::string known_as(std::string_view old_name, std::string_view new_name) {
  return "*** " + std::string(old_name) + " is now known as " + std::string(new_name);
}
// What the one who took `nickname` is told.
inline std::string now_known_as(std::string_view nickname) {
  return "*** You are now known as " + std::string(nickname) + ".";
}
inline std::string already_known_as(std::string_view nickname) {
  return "*** You are already known as " + std::string(nickname) + ".";
}
inline std::string nickname_taken(std::string_view nickname) {
  return "*** Nickname " + std::string(nickname) + " is taken.";
}

inline std::string now_in(std::string_view room, int online) {
  return "*** You are now in " + std::string(room) + " (" + std::to_string(online) + " online).";
}
inline std::string already_in(std::string_view room) {
  return "*** You are already in " + std::string(room) + ".";
}
// The /rooms reply (one line): "*** Rooms: lobby (2), dev (1)", rooms in the order given.
inline std::string rooms_reply(
    std::initializer_list<std::pair<std::string_view, std::size_t>> rooms) {
  std::string line = "*** Rooms:";
  const char* separator = " ";
  for (const auto& [room, online] : rooms) {
    line += separator + std::string(room) + " (" + std::to_string(online) + ")";
    separator = ", ";
  }
  return line;
}
// The /rooms reply while everyone is in the lobby.
inline std::string lobby_rooms_reply(std::size_t online) {
  return rooms_reply({{"lobby", online}});
}
// The /who reply (one line): "*** 2 online: alice, Client #3", names in the order given.
inline std::string who_reply(std::initializer_list<std::string_view> names) {
  std::string line = "*** " + std::to_string(names.size()) + " online:";
  const char* separator = " ";
  for (std::string_view name : names) {
    line += separator + std::string(name);
    separator = ", ";
  }
  return line;
}

inline std::string line_too_long(std::size_t max_line) {
  return "*** Line too long (max " + std::to_string(max_line) + " bytes); dropped.";
}
inline std::string restarted(std::string_view name, std::string_view room) {
  return "*** Server restarted; you are still " + std::string(name) + " in " + std::string(room) +
         ".";
}
inline std::string server_full(std::size_t max_clients) {
  return "*** Server full (" + std::to_string(max_clients) + " clients); try again later.";
}
// What a peer outside the allow list reads before the server closes: `address` without
// port or brackets ("127.0.0.1", "::1").
inline std::string not_allowed(std::string_view address) {
  return "*** Connections from " + std::string(address) + " are not allowed here.";
}
inline std::string slow_down(std::size_t max_rate) {
  return "*** Slow down: over " + std::to_string(max_rate) +
         " lines per second; your lines are delayed, none is lost.";
}
inline std::string line_timeout(std::size_t seconds) {
  return "*** Line timeout: an incomplete line waited over " + std::to_string(seconds) +
         " s; disconnecting.";
}

// Reading lines.

// The name in a welcome line ("Client #3", "Client #n2:1"), or nullopt if `line` is not one.
inline std::optional<std::string_view> parse_welcome_name(std::string_view line) {
  if (!line.starts_with(kWelcomePrefix) || line.size() == kWelcomePrefix.size()) {
    return std::nullopt;
  }
  return line.substr(kWelcomePrefix.size());
}

// The id in a single node's client name ("Client #3"), or nullopt for any other name.
inline std::optional<int> parse_client_id(std::string_view name) {
  constexpr std::string_view kPrefix = "Client #";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  int id = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (error != std::errc{} || end != name.data() + name.size()) return std::nullopt;
  return id;
}

// The id in a single node's welcome line, or nullopt if `line` is not one.
inline std::optional<int> parse_welcome_id(std::string_view line) {
  const auto name = parse_welcome_name(line);
  return name ? parse_client_id(*name) : std::nullopt;
}

// A history line "[HH:MM:SS] LINE" without its time: LINE; nullopt if `line` does not start
// with a well-formed time of day.
inline std::optional<std::string_view> strip_history_time(std::string_view line) {
  constexpr std::string_view kPattern = "[00:00:00] ";
  if (line.size() < kPattern.size()) return std::nullopt;
  for (std::size_t i = 0; i < kPattern.size(); ++i) {
    const bool digit_wanted = kPattern[i] == '0';
    const bool is_digit = line[i] >= '0' && line[i] <= '9';
    if (digit_wanted ? !is_digit : line[i] != kPattern[i]) return std::nullopt;
  }
  const int hours = (line[1] - '0') * 10 + (line[2] - '0');
  const int minutes = (line[4] - '0') * 10 + (line[5] - '0');
  const int seconds = (line[7] - '0') * 10 + (line[8] - '0');
  if (hours > 23 || minutes > 59 || seconds > 59) return std::nullopt;
  return line.substr(kPattern.size());
}

// "Client #N says >> text" split into N and text; nullopt for any other line.
struct ChatLine {
  int sender = 0;
  std::string_view text;
};
inline std::optional<ChatLine> parse_chat_line(std::string_view line) {
  constexpr std::string_view kPrefix = "Client #";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  int sender = 0;
  const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), sender);
  if (error != std::errc{}) return std::nullopt;
  line.remove_prefix(static_cast<std::size_t>(end - line.data()));
  if (!line.starts_with(kSaysInfix)) return std::nullopt;
  line.remove_prefix(kSaysInfix.size());
  return ChatLine{sender, line};
}

// Whether `line` is the notice that `name` left ("*** NAME left (N online)", with or without
// a reason after it).
inline bool is_leave_notice(std::string_view line, std::string_view name) {
  const std::string prefix = "*** " + std::string(name) + " left (";
  return line.starts_with(prefix);
}

// The first line of a /who reply ("*** 3 online: a, b, c"): the count, and where the names
// start. Later lines of a long reply are "*** " and more names.
struct WhoHead {
  int count = 0;
  std::size_t names_at = 0;
};
inline std::optional<WhoHead> parse_who_head(std::string_view line) {
  constexpr std::string_view kOnline = " online: ";
  const auto online = line.find(kOnline);
  if (!line.starts_with("*** ") || online == std::string_view::npos) return std::nullopt;
  WhoHead head;
  const auto [end, error] = std::from_chars(line.data() + 4, line.data() + online, head.count);
  if (error != std::errc{} || end != line.data() + online) return std::nullopt;
  head.names_at = online + kOnline.size();
  return head;
}

// Appends the names of a ", "-separated list ("alice, bob, Client #3") to `names`, in order.
inline void append_listed_names(std::string_view list, std::vector<std::string>& names) {
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(", ", start);
    names.emplace_back(list.substr(start, comma - start));
    if (comma == std::string_view::npos) return;
    start = comma + 2;
  }
}

}  // namespace epollchat::test::lines
