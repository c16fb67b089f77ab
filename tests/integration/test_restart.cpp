// Restarts that keep every client connected, with the test playing systemd's service
// manager (ServiceManager: the notify socket, the file descriptor store, LISTEN_FDS):
// a planned restart keeps names, rooms, half-sent lines and queued output, and nobody sees
// a join or a leave; a client connecting meanwhile waits in the backlog; a state the new
// process cannot read asks everyone to reconnect; after SIGKILL the clients join again as
// new ones; a client that leaves is taken out of the store; without FDSTORE there is no
// store at all; TLS clients are asked to reconnect. Tens of clients, so that it also runs under
// valgrind.
#include <fcntl.h>
#include <poll.h>

#include <gtest/gtest.h>
#include <algorithm>
#include <array>
#include <csignal>
#include <cstddef>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "adversarial/adversarial.hpp"
#include "chat/saved_state.hpp"
#include "core/socket.hpp"
#include "core/unique_fd.hpp"
#include "support/chat_client.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"
#include "support/service_manager.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace epollchat::test {
namespace {

constexpr std::string_view kRestartingReconnect = "*** Server restarting; please reconnect.";
constexpr std::string_view kRestartedAfterFailure =
    "*** Server restarted after a failure; you join again as a new client.";

std::string client_fd_name(int id) { return "client-" + std::to_string(id); }

// The names a store holds for the listener and these clients, sorted as stored_names().
std::vector<std::string> store_of(const std::vector<int>& ids) {
  std::vector<std::string> names{"listener"};
  for (const int id : ids) names.push_back(client_fd_name(id));
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int> ids_of(const std::vector<Member*>& members) {
  std::vector<int> ids;
  for (const Member* member : members) ids.push_back(member->id);
  return ids;
}

bool is_join_or_leave(std::string_view line) {
  return line.starts_with("*** ") && (line.find(" joined (") != std::string_view::npos ||
                                      line.find(" left (") != std::string_view::npos);
}

// Makes a member's stream quiet: /rooms, and everything up to its reply is read.
::testing::AssertionResult settle(Member& member) {
  member.client.send("/rooms\n");
  if (member.client.skip_until(
          [](std::string_view line) { return line.starts_with("*** Rooms:"); })) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << member.name << " got no /rooms reply";
}

// A member that took `nickname` (unless empty) and moved to `room` (unless the lobby).
Member enter(std::uint16_t port, std::string_view room, std::string_view nickname) {
  Member member = join(port);
  if (!nickname.empty() && !take_nickname(member, nickname)) {
    throw std::runtime_error("no nickname " + std::string(nickname));
  }
  if (room != "lobby") {
    member.client.send("/join " + std::string(room) + "\n");
    const std::string reply = "*** You are now in " + std::string(room) + " (";
    if (!member.client.skip_until([&](std::string_view line) { return line.starts_with(reply); })) {
      throw std::runtime_error(member.name + " could not move to " + std::string(room));
    }
  }
  return member;
}

// A client that does not read: sockets with small buffers on both ends, so that what is
// sent to it soon stays queued in the daemon. Read through a LineReader when the test says.
struct StalledClient {
  UniqueFd fd;
  LineReader reader;
  std::vector<std::string> lines;

  explicit StalledClient(std::uint16_t port)
      : fd(connect_with_small_buffers(port, 4096, 536)), reader(fd.get()) {}

  void send(std::string_view bytes) const {
    ASSERT_EQ(::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // /rooms, and every line up to its reply is read and forgotten: the stream is quiet.
  bool settle(const Deadline& deadline) {
    send("/rooms\n");
    for (;;) {
      if (!read_lines(lines.size() + 1, deadline)) return false;
      if (lines.back().starts_with("*** Rooms:")) break;
    }
    lines.clear();
    return true;
  }

  // Reads until `count` lines have arrived in all (or the peer closed); false on timeout.
  bool read_lines(std::size_t count, const Deadline& deadline) {
    while (lines.size() < count) {
      const bool open =
          reader.read_available([&](std::string_view line) { lines.emplace_back(line); });
      if (lines.size() >= count) break;
      if (!open || deadline.has_expired()) return false;
      pollfd entry{fd.get(), POLLIN, 0};
      ::poll(&entry, 1, deadline.poll_timeout());
    }
    return true;
  }
};

// Unthrottled, and a backlog large enough that the stalled client's queue is never cut off
// as congested: the tests are about what a restart keeps.
ServiceManagerOptions restart_options() {
  ServiceManagerOptions options;
  options.extra_args = {"--max-rate", "0", "--max-backlog", "8388608"};
  return options;
}

// Reads a restored member's next lines: the restart notice exactly once, and `chat` once
// each and in order, the notice anywhere among them, nothing else.
::testing::AssertionResult sees_notice_among(Member& member, std::string_view room,
                                             const std::vector<std::string>& chat) {
  const std::string notice = lines::restarted(member.name, room);
  std::vector<std::string> seen;
  for (std::size_t n = 0; n < chat.size() + 1; ++n) {
    auto line = member.client.read_line();
    if (!line) {
      return ::testing::AssertionFailure()
             << member.name << ": no more lines after " << ::testing::PrintToString(seen);
    }
    seen.push_back(*line);
  }
  std::vector<std::string> others;
  std::copy_if(seen.begin(), seen.end(), std::back_inserter(others),
               [&](const std::string& line) { return line != notice; });
  if (others.size() == chat.size() && others == chat) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << member.name << " saw " << ::testing::PrintToString(seen);
}

constexpr int kListenersPerRoom = 4;

TEST(Restart, ClientsKeepNamesRoomsHalfLinesAndQueuedOutput) {
  ServiceManager manager(restart_options());
  const std::uint16_t port = manager.port();

  // The stalled client, in dev, known by its number.
  StalledClient stalled(port);
  ASSERT_TRUE(stalled.read_lines(1, Deadline(kReplyTimeout)));
  const auto stalled_id = lines::parse_welcome_id(stalled.lines[0]);
  ASSERT_TRUE(stalled_id) << stalled.lines[0];
  const std::string stalled_name = lines::client_name(*stalled_id);
  stalled.send("/join dev\n");
  ASSERT_TRUE(stalled.read_lines(2, Deadline(kReplyTimeout)));
  ASSERT_EQ(stalled.lines[1], lines::now_in("dev", 1));

  Member ann = enter(port, "lobby", "ann");
  Member lobby_plain = enter(port, "lobby", "");
  Member dora = enter(port, "dev", "dora");
  Member dev_plain = enter(port, "dev", "");
  Member otto = enter(port, "ops", "otto");
  Member half = enter(port, "ops", "");
  Member olga = enter(port, "ops", "olga");
  std::vector<Member*> members{&ann, &lobby_plain, &dora, &dev_plain, &otto, &half, &olga};
  // More members in the lobby and in ops, some with nicknames, who only listen.
  std::vector<Member> lobby_listeners;
  std::vector<Member> ops_listeners;
  for (int i = 0; i < kListenersPerRoom; ++i) {
    lobby_listeners.push_back(enter(port, "lobby", i % 2 == 0 ? "" : "lob" + std::to_string(i)));
    ops_listeners.push_back(enter(port, "ops", i % 2 == 0 ? "" : "op" + std::to_string(i)));
  }
  for (Member& member : lobby_listeners) members.push_back(&member);
  for (Member& member : ops_listeners) members.push_back(&member);
  for (Member* member : members) ASSERT_TRUE(settle(*member));
  ASSERT_TRUE(stalled.settle(Deadline(kReplyTimeout)));
  std::vector<int> everyone = ids_of(members);
  everyone.push_back(*stalled_id);
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) { return names == store_of(everyone); }, 10s))
      << "store: " << ::testing::PrintToString(manager.stored_names());

  // Dora fills the stalled client's queue; the dev member reads it all, so every line has
  // been handled (and queued to the stalled client) before the restart.
  constexpr int kQueued = 2000;
  const auto queued_line = [](int n) {
    std::string text = "queued " + std::to_string(n) + " ";
    text.resize(180, '.');
    return text;
  };
  std::string burst;
  for (int n = 0; n < kQueued; ++n) burst += queued_line(n) + "\n";
  dora.client.send(burst, 30s);
  for (int n = 0; n < kQueued; ++n) {
    ASSERT_TRUE(dev_plain.client.expect_line(lines::says("dora", queued_line(n)), 30s));
  }
  // Half a line, finished after the restart; and lines still in flight at the stop.
  half.client.send("half of a li");
  constexpr int kInFlight = 5;
  for (int n = 0; n < kInFlight; ++n) ann.client.send("in flight " + std::to_string(n) + "\n");

  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  EXPECT_TRUE(manager.wait_for_log(
      "restarting: handing on " + std::to_string(members.size() + 1) + " clients", 5s))
      << manager.log();
  {
    // The state, then the barrier that waits for the manager to have taken it.
    const std::vector<NotifyMessage> sent = manager.messages();
    const auto state_message = std::find_if(sent.begin(), sent.end(), [](const NotifyMessage& m) {
      return m.has("FDSTORE=1") && m.has("FDNAME=state") && m.has("FDPOLL=0");
    });
    ASSERT_NE(state_message, sent.end()) << "no FDSTORE=1, FDNAME=state, FDPOLL=0";
    EXPECT_TRUE(std::any_of(state_message, sent.end(), [](const NotifyMessage& m) {
      return m.has("BARRIER=1");
    })) << "no BARRIER=1 after the state";
    const int seals = manager.stored_state_seals().value_or(0);
    EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW),
              F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)
        << "the state's memfd is not sealed (seals " << seals << ")";
  }
  const std::optional<std::string> state_bytes = manager.stored_state();
  ASSERT_TRUE(state_bytes) << "no state in the store after a planned stop: "
                           << ::testing::PrintToString(manager.stored_names());
  {
    chat::SavedStateLimits limits{
        .max_clients = 100000, .max_unhandled_input = 1 << 30, .max_unsent_output = 1 << 30};
    const chat::SavedState state = chat::decode_saved_state(*state_bytes, limits);
    EXPECT_EQ(state.clients.size(), members.size() + 1);
    const auto saved_stalled =
        std::find_if(state.clients.begin(), state.clients.end(), [&](const chat::SavedClient& c) {
          return c.id == static_cast<std::uint64_t>(*stalled_id);
        });
    ASSERT_NE(saved_stalled, state.clients.end());
    // Proves the test exercises what it claims: output still queued in the daemon.
    EXPECT_FALSE(saved_stalled->unsent_output.empty())
        << "the stalled client's queue was empty at the stop; nothing queued was handed on";
  }

  manager.relaunch();
  EXPECT_EQ(manager.port(), port) << "the listening socket changed";
  EXPECT_TRUE(manager.wait_for_log(
      "restored " + std::to_string(members.size() + 1) + " clients from the previous process", 5s))
      << manager.log();

  // Quiet streams get the notice as their next line.
  const std::vector<std::pair<Member*, std::string_view>> quiet{
      {&ann, "lobby"}, {&dora, "dev"}, {&dev_plain, "dev"},
      {&otto, "ops"},  {&half, "ops"}, {&olga, "ops"}};
  for (const auto& [member, room] : quiet) {
    EXPECT_TRUE(member->client.expect_line(lines::restarted(member->name, room))) << member->name;
  }
  // Ann's lines in flight reach the other lobby members once each and in order, with the
  // notice somewhere among them (before those the old process had not read yet).
  std::vector<std::string> in_flight;
  for (int n = 0; n < kInFlight; ++n) {
    in_flight.push_back(lines::says("ann", "in flight " + std::to_string(n)));
  }
  EXPECT_TRUE(sees_notice_among(lobby_plain, "lobby", in_flight));
  // The stalled client gets all it was sent, in order, then the notice.
  ASSERT_TRUE(stalled.read_lines(kQueued + 1, Deadline(30s)))
      << "got " << stalled.lines.size() << " lines";
  for (int n = 0; n < kQueued; ++n) {
    ASSERT_EQ(stalled.lines[static_cast<std::size_t>(n)], lines::says("dora", queued_line(n)))
        << "line " << n;
  }
  EXPECT_EQ(stalled.lines[kQueued], lines::restarted(stalled_name, "dev"));

  // The half-sent line, finished now, reaches the room whole.
  half.client.send("ne\n");
  EXPECT_TRUE(otto.client.expect_line(lines::says(half.name, "half of a line")));
  EXPECT_TRUE(olga.client.expect_line(lines::says(half.name, "half of a line")));

  // Nothing else came in between, in any room: no join, no leave, no second notice.
  EXPECT_TRUE(expect_nothing_before_marker(ann, lobby_plain, "after lobby"));
  EXPECT_TRUE(expect_nothing_before_marker(lobby_plain, ann, "after lobby 2"));
  EXPECT_TRUE(expect_nothing_before_marker(dora, dev_plain, "after dev"));
  EXPECT_TRUE(expect_nothing_before_marker(dev_plain, dora, "after dev 2"));
  otto.client.send("after ops\n");
  EXPECT_TRUE(half.client.expect_line(lines::says("otto", "after ops")));
  EXPECT_TRUE(olga.client.expect_line(lines::says("otto", "after ops")));
  olga.client.send("after ops 2\n");
  EXPECT_TRUE(half.client.expect_line(lines::says("olga", "after ops 2")));
  EXPECT_TRUE(otto.client.expect_line(lines::says("olga", "after ops 2")));
  ASSERT_TRUE(stalled.read_lines(kQueued + 3, Deadline(kReplyTimeout)));
  EXPECT_EQ(stalled.lines[kQueued + 1], lines::says("dora", "after dev"));
  EXPECT_EQ(stalled.lines[kQueued + 2], lines::says(dev_plain.name, "after dev 2"));
  EXPECT_EQ(stalled.lines.size(), static_cast<std::size_t>(kQueued + 3));
  for (const std::string& line : stalled.lines) EXPECT_FALSE(is_join_or_leave(line)) << line;

  // The listeners saw the same, each with its own notice among it.
  std::vector<std::string> lobby_lines = in_flight;
  lobby_lines.push_back(lines::says("ann", "after lobby"));
  lobby_lines.push_back(lines::says(lobby_plain.name, "after lobby 2"));
  for (Member& member : lobby_listeners)
    EXPECT_TRUE(sees_notice_among(member, "lobby", lobby_lines));
  const std::vector<std::string> ops_lines{lines::says(half.name, "half of a line"),
                                           lines::says("otto", "after ops"),
                                           lines::says("olga", "after ops 2")};
  for (Member& member : ops_listeners) EXPECT_TRUE(sees_notice_among(member, "ops", ops_lines));

  // Names, rooms and ids are the same: /who in ops lists the same members.
  std::multiset<std::string> in_ops{"otto", "olga", half.name};
  for (const Member& member : ops_listeners) in_ops.insert(member.name);
  EXPECT_TRUE(who_lists(otto, in_ops));

  // The new process read the state and took it out of the store; the sockets stay.
  EXPECT_TRUE(manager.wait_for_message(
      [](const NotifyMessage& m) { return m.has("FDSTOREREMOVE=1") && m.has("FDNAME=state"); },
      5s));
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) { return names == store_of(everyone); }, 5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());
}

TEST(Restart, SeveralRestartsInARowAndACrashBetweenThem) {
  ServiceManager manager(restart_options());
  const std::uint16_t port = manager.port();
  auto [a, b] = join_quiet<2>(port);
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));

  EXPECT_EQ(manager.restart(), ExitStatus::exited_with(0));
  EXPECT_TRUE(expect_line_at_each({&a}, lines::restarted("alice", "lobby")));
  EXPECT_TRUE(expect_line_at_each({&b}, lines::restarted(b.name, "lobby")));
  // One who came after the first restart is handed on by the second like the others.
  Member c = join(port);
  EXPECT_TRUE(expect_line_at_each({&a, &b}, lines::joined(c.id, 3)));
  EXPECT_EQ(manager.restart(), ExitStatus::exited_with(0));
  for (Member* member : {&a, &b, &c}) {
    EXPECT_TRUE(member->client.expect_line(lines::restarted(member->name, "lobby")));
  }
  EXPECT_EQ(manager.restart(), ExitStatus::exited_with(0));
  for (Member* member : {&a, &b, &c}) {
    EXPECT_TRUE(member->client.expect_line(lines::restarted(member->name, "lobby")));
  }
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) {
        return names == store_of({a.id, b.id, c.id});
      },
      5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());

  // A crash after restarts: everyone joins again, and a planned restart keeps them after it.
  EXPECT_EQ(manager.kill_and_restart(), ExitStatus::killed_by(SIGKILL));
  for (Member* member : {&a, &b, &c}) {
    ASSERT_TRUE(member->client.expect_line(kRestartedAfterFailure));
    const auto welcome = member->client.read_line();
    ASSERT_TRUE(welcome);
    member->id = lines::parse_welcome_id(*welcome).value_or(0);
    member->name = lines::client_name(member->id);
  }
  for (Member* member : {&a, &b, &c}) ASSERT_TRUE(settle(*member));
  EXPECT_EQ(manager.restart(), ExitStatus::exited_with(0));
  for (Member* member : {&a, &b, &c}) {
    EXPECT_TRUE(member->client.expect_line(lines::restarted(member->name, "lobby")));
  }
  a.client.send("still here\n");
  EXPECT_TRUE(expect_line_at_each({&b, &c}, lines::says(a.name, "still here")));
}

TEST(Restart, ASecondSigtermDuringTheStopChangesNothing) {
  ServiceManager manager(restart_options());
  std::vector<Member> members = join_quiet(manager.port(), 12);

  manager.send_signal(SIGTERM);
  ASSERT_TRUE(manager.wait_for_log("received SIGTERM, restarting", 5s)) << manager.log();
  // Once the stop has begun; the process may have finished it already (a zombie takes the
  // signal without effect), which the test cannot tell apart, but it must never turn the
  // restart into a real stop.
  manager.send_signal(SIGTERM);
  EXPECT_EQ(manager.wait_stopped(), ExitStatus::exited_with(0));
  EXPECT_TRUE(manager.stored_state().has_value()) << "no state: the restart became a stop";
  manager.relaunch();
  for (Member& member : members) {
    EXPECT_TRUE(member.client.expect_line(lines::restarted(member.name, "lobby")));
  }
}

TEST(Restart, ClientConnectingDuringTheRestartWaitsInTheBacklog) {
  ServiceManager manager(restart_options());
  const std::uint16_t port = manager.port();
  Member first = join(port);
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) { return names == store_of({first.id}); }, 5s));

  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  EXPECT_TRUE(manager.wait_for_log("restarting: handing on 1 client\n", 5s)) << manager.log();
  // No process listens now, but the stored listening socket does: the connection completes
  // in the kernel and waits to be accepted.
  ChatClient waiting(port);
  manager.relaunch();

  Member late = read_welcome(std::move(waiting));
  EXPECT_GT(late.id, first.id) << "ids are not reused across the restart";
  EXPECT_TRUE(first.client.expect_line(lines::restarted(first.name, "lobby")));
  EXPECT_TRUE(first.client.expect_line(lines::joined(late.id, 2)));
  EXPECT_TRUE(expect_nothing_before_marker(late, first));
}

// Three quiet members, one with a nickname and one in another room, each in the store.
std::array<Member, 3> three_in_two_rooms(ServiceManager& manager) {
  std::array<Member, 3> members{enter(manager.port(), "lobby", "alice"),
                                enter(manager.port(), "dev", ""),
                                enter(manager.port(), "lobby", "")};
  for (Member& member : members) {
    if (!settle(member)) throw std::runtime_error(member.name + " got no /rooms reply");
  }
  const std::vector<std::string> expected =
      store_of(ids_of({&members[0], &members[1], &members[2]}));
  if (!manager.wait_for_store(
          [&](const std::vector<std::string>& names) { return names == expected; }, 5s)) {
    throw std::runtime_error("the store did not come to hold the three clients");
  }
  return members;
}

// How the saved state is spoiled before the new process reads it.
struct Spoiling {
  const char* name;
  std::string (*spoil)(std::string bytes);
  const char* reason;  // in the log's warning
};

const Spoiling kSpoilings[] = {
    {"Damaged",
     [](std::string bytes) {
       // A byte of the body, just before the 32-byte digest.
       bytes[bytes.size() - 33] = static_cast<char>(bytes[bytes.size() - 33] ^ 0x5a);
       return bytes;
     },
     "saved state not used: "},
    {"ForeignVersion",
     [](std::string bytes) {
       // The u32 version after "EPCHSTAT": a later format.
       bytes[8] = static_cast<char>(chat::kSavedStateVersion + 1);
       return bytes;
     },
     "version 2"},
    {"Garbage", [](std::string) { return std::string("EPCHSTAT\x01\x00\x00\x00\xff\xff", 14); },
     "saved state not used: "},
};

class UnreadableState : public ::testing::TestWithParam<Spoiling> {};

TEST_P(UnreadableState, EveryClientIsAskedToReconnectAndClosedCleanly) {
  ServiceManager manager(restart_options());
  const std::uint16_t port = manager.port();
  auto [a, b, c] = three_in_two_rooms(manager);

  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  const std::optional<std::string> state = manager.stored_state();
  ASSERT_TRUE(state) << "no state after a planned stop";
  manager.replace_state(GetParam().spoil(*state));
  manager.relaunch();

  for (Member* member : {&a, &b, &c}) {
    EXPECT_TRUE(member->client.expect_line(lines::kRestartedReconnect)) << member->name;
    const auto rest = member->client.read_until_closed();
    EXPECT_EQ(rest, std::optional<std::string>("")) << member->name << ": not closed, or more";
    EXPECT_FALSE(member->client.was_reset()) << member->name << ": reset instead of closed";
  }
  EXPECT_TRUE(manager.wait_for_log("saved state not used: ", 5s)) << manager.log();
  EXPECT_TRUE(manager.wait_for_log(GetParam().reason, 5s)) << manager.log();
  EXPECT_TRUE(manager.wait_for_log("asking 3 clients to reconnect", 5s)) << manager.log();
  EXPECT_TRUE(manager.wait_for_store(
      [](const std::vector<std::string>& names) {
        return names == std::vector<std::string>{"listener"};
      },
      5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());
  // And the new process serves new clients.
  Member fresh = join(port);
  EXPECT_GT(fresh.id, 0);
}

INSTANTIATE_TEST_SUITE_P(Spoilings, UnreadableState, ::testing::ValuesIn(kSpoilings),
                         [](const ::testing::TestParamInfo<Spoiling>& param_info) {
                           return param_info.param.name;
                         });

TEST(Restart, AfterSigkillClientsJoinAgainAsNewClients) {
  ServiceManager manager(restart_options());
  auto [a, b, c] = three_in_two_rooms(manager);

  EXPECT_EQ(manager.kill_and_restart(), ExitStatus::killed_by(SIGKILL));
  EXPECT_TRUE(manager.wait_for_log(
      "no saved state (the previous process did not stop cleanly): 3 clients join again", 5s))
      << manager.log();

  // Each: the notice, then the usual welcome with a new id.
  std::vector<Member*> members{&a, &b, &c};
  for (Member* member : members) {
    ASSERT_TRUE(member->client.expect_line(kRestartedAfterFailure)) << member->name;
    const auto welcome = member->client.read_line();
    ASSERT_TRUE(welcome) << member->name;
    const auto id = lines::parse_welcome_id(*welcome);
    ASSERT_TRUE(id) << *welcome;
    member->id = *id;
    member->name = lines::client_name(*id);
  }
  // Welcomed one after another into the lobby: each is told of those welcomed after it.
  std::sort(members.begin(), members.end(),
            [](const Member* x, const Member* y) { return x->id < y->id; });
  for (std::size_t i = 0; i < members.size(); ++i) {
    for (std::size_t later = i + 1; later < members.size(); ++later) {
      EXPECT_TRUE(members[i]->client.expect_line(
          lines::joined(members[later]->id, static_cast<int>(later + 1))))
          << members[i]->name;
    }
  }
  // Nothing else came: the next line of the other two is the first one's marker.
  members[0]->client.send("marker\n");
  EXPECT_TRUE(members[1]->client.expect_line(lines::says(members[0]->name, "marker")));
  EXPECT_TRUE(members[2]->client.expect_line(lines::says(members[0]->name, "marker")));
  // The store now names the sockets by the clients' new ids.
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) {
        return names == store_of(ids_of({&a, &b, &c}));
      },
      5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());
}

TEST(Restart, ClientWhoseSocketDiesDuringTheRestartIsSeenToLeave) {
  ServiceManager manager(restart_options());
  const std::uint16_t port = manager.port();
  auto [a, b] = join_quiet<2>(port);
  ASSERT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) {
        return names == store_of({a.id, b.id});
      },
      5s));

  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  b.client.reset();
  // The store drops a socket that hangs up, as systemd does.
  ASSERT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) {
        return std::find(names.begin(), names.end(), client_fd_name(b.id)) == names.end();
      },
      5s));
  manager.relaunch();

  EXPECT_TRUE(a.client.expect_line(lines::restarted(a.name, "lobby")));
  EXPECT_TRUE(a.client.expect_line(lines::left(b.id, 1)));
  EXPECT_TRUE(manager.wait_for_log("restored 1 client from the previous process", 5s))
      << manager.log();
}

TEST(Restart, ClientThatLeavesIsRemovedFromTheStore) {
  ServiceManager manager(restart_options());
  auto [a, b] = join_quiet<2>(manager.port());
  ASSERT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) {
        return names == store_of({a.id, b.id});
      },
      5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());

  const std::string removal = "FDSTOREREMOVE=1\nFDNAME=" + client_fd_name(b.id);
  const std::size_t from = manager.message_count();
  b.client.close();
  EXPECT_TRUE(a.client.expect_line(lines::left(b.id, 1)));
  EXPECT_TRUE(manager.wait_for_message(
      [&](const NotifyMessage& m) {
        return m.has("FDSTOREREMOVE=1") && m.has("FDNAME=" + client_fd_name(b.id));
      },
      5s, from))
      << "no '" << removal << "'";
  EXPECT_EQ(manager.stored_names(), store_of({a.id}));
}

TEST(Restart, TlsClientsAreAskedToReconnectAndTheTlsListenerStays) {
  TempDir dir;
  const CertificateFiles files{dir, "server"};
  ServiceManagerOptions options = restart_options();
  const auto tls = tls_args(files);
  options.extra_args.insert(options.extra_args.end(), tls.begin(), tls.end());
  ServiceManager manager(options);
  const std::uint16_t tls_port = manager.tls_port();
  Member plain = join(manager.port());
  Member encrypted = join(tls_port, ConnectOptions::over_tls(files.trusted_by));
  ASSERT_TRUE(plain.client.expect_line(lines::joined(encrypted.id, 2)));
  // TLS connections cannot be handed on: only the plain client's socket is stored.
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) {
        return names ==
               std::vector<std::string>{client_fd_name(plain.id), "listener", "tls-listener"};
      },
      5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());

  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  EXPECT_TRUE(encrypted.client.expect_line(kRestartingReconnect));
  EXPECT_EQ(encrypted.client.read_until_closed(), std::optional<std::string>(""));
  manager.relaunch();
  EXPECT_EQ(manager.tls_port(), tls_port) << "the TLS listening socket changed";
  EXPECT_TRUE(plain.client.skip_until_line(lines::restarted(plain.name, "lobby")));

  Member again = join(tls_port, ConnectOptions::over_tls(files.trusted_by));
  EXPECT_TRUE(plain.client.expect_line(lines::joined(again.id, 2)));
}

TEST(Restart, ListenerForAnotherAddressIsReplacedAndTheNewOneStored) {
  ServiceManager manager(restart_options());
  const std::uint16_t old_port = manager.port();
  Member a = join(old_port);
  // A port free now: bound by the test and released again (the daemon binds it next).
  std::uint16_t new_port = 0;
  {
    const UniqueFd probe = listen_tcp(*epollchat::SocketAddress::from_numeric("127.0.0.1", 0), 1);
    new_port = epollchat::SocketAddress::local_of(probe.get()).port();
  }
  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  std::vector<std::string> args = restart_options().extra_args;
  args.insert(args.end(), {"--port", std::to_string(new_port)});
  manager.set_extra_args(args);
  manager.relaunch();

  EXPECT_EQ(manager.port(), new_port);
  EXPECT_TRUE(a.client.expect_line(lines::restarted(a.name, "lobby")));
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) { return names == store_of({a.id}); }, 5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());
  // The old listening socket is closed: only the new port takes connections.
  EXPECT_THROW(ChatClient(old_port, ConnectOptions::with_timeout(2s)), std::system_error);
  Member b = join(new_port);
  EXPECT_TRUE(a.client.expect_line(lines::joined(b.id, 2)));
}

TEST(Restart, SocketActivatedDaemonKeepsItsClientsAndStoresNoListener) {
  ServiceManagerOptions options = restart_options();
  options.activated_names = {"chat"};
  ServiceManager manager(options);
  const std::uint16_t port = manager.activated_port(0);
  EXPECT_EQ(manager.port(), port);
  auto [a, b] = join_quiet<2>(port);
  ASSERT_TRUE(take_nickname_seen_by(a, "alice", {&b}));
  // systemd holds the socket unit's listener; the store only the clients.
  const std::vector<std::string> clients_only{client_fd_name(a.id), client_fd_name(b.id)};
  EXPECT_TRUE(manager.wait_for_store(
      [&](const std::vector<std::string>& names) { return names == clients_only; }, 5s))
      << "store: " << ::testing::PrintToString(manager.stored_names());

  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  ChatClient waiting(port);
  manager.relaunch();
  EXPECT_TRUE(a.client.expect_line(lines::restarted("alice", "lobby")));
  EXPECT_TRUE(b.client.expect_line(lines::restarted(b.name, "lobby")));
  Member late = read_welcome(std::move(waiting));
  EXPECT_TRUE(a.client.expect_line(lines::joined(late.id, 3)));
  EXPECT_TRUE(b.client.expect_line(lines::joined(late.id, 3)));
  EXPECT_TRUE(expect_nothing_before_marker(a, b));
}

TEST(Restart, AStoreTooSmallForMaxClientsIsLogged) {
  ServiceManagerOptions options = restart_options();
  options.extra_args.insert(options.extra_args.end(), {"--max-clients", "10"});
  // Ten clients, both listeners and the state fit in 13.
  options.fd_store_max = 13;
  {
    ServiceManager manager(options);
    EXPECT_EQ(manager.log().find("the file descriptor store holds"), std::string::npos)
        << manager.log();
  }
  options.fd_store_max = 12;
  ServiceManager manager(options);
  EXPECT_TRUE(manager.wait_for_log("the file descriptor store holds 12 descriptors", 5s))
      << manager.log();
  EXPECT_TRUE(manager.wait_for_log("FDSTORE=", 5s)) << manager.log();
}

// FDSTORE unset, or not a positive number: the daemon behaves as before.
class RestartWithoutStore : public ::testing::TestWithParam<std::optional<std::size_t>> {};

TEST_P(RestartWithoutStore, TheDaemonStoresNothingAndStopsAsBefore) {
  ServiceManagerOptions options;
  options.fd_store_max = GetParam();
  ServiceManager manager(options);
  auto [a, b] = join_quiet<2>(manager.port());
  b.client.close();
  EXPECT_TRUE(a.client.expect_line(lines::left(b.id, 1)));

  // SIGTERM without a store is the usual stop.
  EXPECT_EQ(manager.stop(SIGTERM), ExitStatus::exited_with(0));
  EXPECT_TRUE(a.client.expect_line(lines::kShuttingDown));
  EXPECT_TRUE(a.client.read_until_closed().has_value());
  for (const NotifyMessage& message : manager.messages()) {
    EXPECT_FALSE(message.has("FDSTORE=1") || message.has("FDSTOREREMOVE=1"))
        << escape_bytes(message.text);
  }
  EXPECT_TRUE(manager.stored_names().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Fdstore, RestartWithoutStore, ::testing::Values(std::nullopt, std::optional<std::size_t>(0)),
    [](const ::testing::TestParamInfo<std::optional<std::size_t>>& param_info) {
      return param_info.param ? "Zero" : "Unset";
    });

}  // namespace
}  // namespace epollchat::test
