#include "chaos_crowd.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <functional>
#include <queue>
#include <system_error>
#include <utility>

#include "seeded_random.hpp"
#include "support/chat_client.hpp"
#include "support/pending_output.hpp"

namespace epollchat::test {
namespace {

// reads_from_ for a connection that never reads again.
constexpr std::int64_t kNever = INT64_MAX;
// A client whose earlier output the server has not taken (it stopped reading the client)
// queues no more: it would only pile up in the test's memory.
constexpr std::size_t kMaxUnsent = 1024 * 1024;
constexpr std::size_t kReadSize = 64 * 1024;
// Reads per client per poll, so one client's stream cannot starve the others.
constexpr int kReadsPerPoll = 4;
constexpr std::chrono::milliseconds kConnectTimeout{5000};

// How likely a connected client is to do each thing next, in the order of ChaosAction.
// Chat dominates; the rest are the misbehaviours the server must survive.
constexpr std::array<unsigned, kChaosActionKinds> kWeights = {
    0,    // connect: planned only after a disconnect
    300,  // chat
    15,   // flood
    45,   // stop_reading
    20,   // who
    20,   // rooms
    8,    // help
    30,   // msg
    20,   // me
    4,    // command_flood
    40,   // join
    10,   // part
    30,   // nick
    12,   // disconnect
    12,   // reset
    8,    // half_close
    8,    // reconnect
};

constexpr std::array<std::string_view, kChaosActionKinds> kNames = {
    "connect", "chat",       "flood", "stop_reading", "/who",      "/rooms",
    "/help",   "/msg",       "/me",   "commands",     "/join",     "/part",
    "/nick",   "disconnect", "reset", "half_close",   "reconnect",
};

// Nicknames come from a small pool so that /nick collides and /msg finds someone.
constexpr std::int64_t kNicknames = 60;

std::string random_text(SeededRandom& random, std::int64_t length) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz  0123456789.,!?";
  std::string text;
  text.reserve(static_cast<std::size_t>(length));
  for (std::int64_t i = 0; i < length; ++i) text += kAlphabet[random.below(kAlphabet.size())];
  // A line of only spaces is still a line; the first byte must not start a command.
  text.front() = 'x';
  return text;
}

std::string nickname(SeededRandom& random) {
  // Now and then a name the server must refuse.
  if (random.chance(100)) return random.chance(500) ? "Client9" : "no spaces";
  return "nick" + std::to_string(random.between(0, kNicknames - 1));
}

void mix(std::uint64_t& digest, std::uint64_t value) {
  digest ^= value;
  digest *= 0x100000001b3ULL;
}

}  // namespace

std::string_view action_name(ChaosAction action) {
  return kNames[static_cast<std::size_t>(action)];
}

struct ChaosCrowd::Client {
  Client(std::size_t i, std::uint64_t seed) : index(i), random(SeededRandom::stream(seed, i)) {}

  [[nodiscard]] bool is_reading(std::int64_t now) const {
    return reads_from == 0 || (reads_from != kNever && reads_from <= now);
  }

  std::size_t index;
  SeededRandom random;
  std::optional<ChatClient> socket;  // empty: not connected (never, or closed)
  // The plan's view: connected and not half-closed. The server may have closed the
  // connection meanwhile; the plan does not know, so decisions never depend on timing.
  bool planned_connected = false;
  bool half_closed = false;
  // This connection reads from then on (ms since the start); 0: reading; kNever: never.
  std::int64_t reads_from = 0;
  PendingOutput unsent;
};

ChaosCrowd::ChaosCrowd(ChaosSettings settings) : settings_(std::move(settings)) {
  clients_.reserve(settings_.clients);
  for (std::size_t i = 0; i < settings_.clients; ++i) {
    clients_.push_back(std::make_unique<Client>(i, settings_.seed));
  }
}

ChaosCrowd::~ChaosCrowd() = default;

void ChaosCrowd::close_all() {
  for (auto& client : clients_) client->socket.reset();
}

std::int64_t ChaosCrowd::elapsed_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start_)
      .count();
}

void ChaosCrowd::run(const std::atomic<bool>& stop) {
  start_ = std::chrono::steady_clock::now();
  const std::int64_t end = settings_.duration.count();
  // (planned time, client index), earliest first; ties in index order, so the order in
  // which due actions run is part of the plan too.
  using Due = std::pair<std::int64_t, std::size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due;
  // The crowd arrives over the first two seconds.
  for (auto& client : clients_) due.emplace(client->random.between(0, 2000), client->index);

  while (!stop.load()) {
    std::int64_t now = elapsed_ms();
    while (!due.empty() && due.top().first <= now && due.top().first < end) {
      const auto [planned_at, index] = due.top();
      due.pop();
      Client& client = *clients_[index];
      const ChaosAction action = decide(client, planned_at, now);
      due.emplace(planned_at + carry_out(client, action, now), index);
      now = elapsed_ms();
    }
    std::int64_t wait = 20;
    if (!due.empty() && due.top().first < end) {
      wait = std::clamp<std::int64_t>(due.top().first - now, 0, wait);
    }
    exchange_data(now, static_cast<int>(wait));
  }
}

ChaosAction ChaosCrowd::decide(Client& client, std::int64_t planned_at, std::int64_t now) {
  const ChaosAction action = client.planned_connected
                                 ? static_cast<ChaosAction>(client.random.pick_weighted(kWeights))
                                 : ChaosAction::connect;
  mix(tally_.decision_digest, client.index);
  mix(tally_.decision_digest, static_cast<std::uint64_t>(planned_at));
  mix(tally_.decision_digest, static_cast<std::uint64_t>(action));
  ++tally_.actions[static_cast<std::size_t>(action)];
  tally_.max_lag_ms = std::max(tally_.max_lag_ms, static_cast<double>(now - planned_at));
  // Every action but a (re)connection needs a connection; if the server closed it, a fresh
  // one with default settings (which draw nothing from the plan) stands in.
  if (action != ChaosAction::connect && action != ChaosAction::reconnect && !client.socket) {
    ++tally_.reconnects_after_server_close;
    connect(client, std::nullopt);
  }
  return action;
}

std::int64_t ChaosCrowd::carry_out(Client& client, ChaosAction action, std::int64_t now) {
  SeededRandom& random = client.random;
  const std::int64_t next_delay = random.between(100, 1500);
  switch (action) {
    case ChaosAction::connect:
    case ChaosAction::reconnect: {
      // Small receive buffers make a client that stops reading back up into the server.
      static constexpr std::array<unsigned, 3> kBufferWeights = {2, 1, 1};
      static constexpr std::array<int, 3> kBuffers = {0, 4096, 32768};
      const int buffer = kBuffers[random.pick_weighted(kBufferWeights)];
      const bool stays_in_lobby = random.chance(300);
      const std::string room = pick_room(client);
      connect(client, buffer == 0 ? std::nullopt : std::optional<int>(buffer));
      if (!stays_in_lobby) queue_output(client, "/join " + room + "\n");
      break;
    }
    case ChaosAction::chat: {
      const std::int64_t lines = random.between(1, 3);
      std::string text;
      for (std::int64_t i = 0; i < lines; ++i) {
        // One line in forty is over max-line (4096): the server drops it with a notice.
        text += random.chance(25) ? std::string(5000, 'L')
                                  : random_text(random, random.between(1, 120));
        text += '\n';
      }
      queue_output(client, text);
      break;
    }
    case ChaosAction::flood: {
      const auto bytes = static_cast<std::size_t>(random.between(64 * 1024, 384 * 1024));
      const auto line_length = static_cast<std::size_t>(random.between(16, 400));
      std::string text;
      text.reserve(bytes + line_length);
      for (std::size_t n = 0; text.size() < bytes; ++n) {
        std::string line = "flood " + std::to_string(client.index) + " " + std::to_string(n) + " ";
        line.resize(std::max(line.size(), line_length), 'f');
        text += line + "\n";
      }
      queue_output(client, text);
      break;
    }
    case ChaosAction::stop_reading: {
      const bool for_good = random.chance(200);
      const std::int64_t pause = random.between(500, 8000);
      client.reads_from = for_good ? kNever : now + pause;
      break;
    }
    case ChaosAction::who:
      queue_output(client, "/who\n");
      break;
    case ChaosAction::rooms:
      queue_output(client, "/rooms\n");
      break;
    case ChaosAction::help:
      queue_output(client, "/help\n");
      break;
    case ChaosAction::msg: {
      const std::string target =
          random.chance(500) ? nickname(random)
                             : "#" + std::to_string(random.between(
                                         1, static_cast<std::int64_t>(2 * clients_.size())));
      queue_output(client,
                   "/msg " + target + " " + random_text(random, random.between(1, 60)) + "\n");
      break;
    }
    case ChaosAction::me:
      queue_output(client, "/me " + random_text(random, random.between(1, 60)) + "\n");
      break;
    case ChaosAction::command_flood: {
      static constexpr std::array<std::string_view, 3> kCommands = {"/who\n", "/rooms\n",
                                                                    "/help\n"};
      const std::int64_t count = random.between(50, 400);
      std::string text;
      for (std::int64_t i = 0; i < count; ++i) text += kCommands[random.below(kCommands.size())];
      queue_output(client, text);
      break;
    }
    case ChaosAction::join:
      queue_output(client, "/join " + pick_room(client) + "\n");
      break;
    case ChaosAction::part:
      queue_output(client, "/part\n");
      break;
    case ChaosAction::nick:
      queue_output(client, "/nick " + nickname(random) + "\n");
      break;
    case ChaosAction::disconnect:
      client.socket.reset();
      client.planned_connected = false;
      return random.between(50, 2000);
    case ChaosAction::reset:
      if (client.socket) client.socket->reset();
      client.socket.reset();
      client.planned_connected = false;
      return random.between(50, 2000);
    case ChaosAction::half_close:
      // Whatever was not sent yet is dropped: the peer goes quiet mid-stream.
      client.unsent.clear();
      client.half_closed = true;
      client.planned_connected = false;
      try {
        if (client.socket) client.socket->shutdown_write();
      } catch (const std::system_error&) {
        lose_connection(client);  // the server had reset it
      }
      return random.between(500, 5000);
  }
  return next_delay;
}

std::string ChaosCrowd::pick_room(Client& client) const {
  // The steady room four times in ten, else one of the others.
  if (client.random.chance(400)) return settings_.rooms.front();
  return settings_.rooms[1 + client.random.below(settings_.rooms.size() - 1)];
}

void ChaosCrowd::connect(Client& client, std::optional<int> receive_buffer) {
  client.socket.reset();
  client.unsent.clear();
  client.half_closed = false;
  client.reads_from = 0;
  client.planned_connected = true;
  ConnectOptions options;
  options.receive_buffer = receive_buffer;
  options.timeout = kConnectTimeout;
  try {
    client.socket.emplace(settings_.port, options);
    ++tally_.connections;
  } catch (const std::system_error&) {
    ++tally_.connect_failures;
  }
}

void ChaosCrowd::queue_output(Client& client, std::string_view bytes) {
  if (!client.socket || client.unsent.size() > kMaxUnsent) {
    ++tally_.sends_skipped;
    return;
  }
  client.unsent.append(bytes);
  flush_output(client);
}

void ChaosCrowd::flush_output(Client& client) {
  if (!client.socket) return;
  if (client.unsent.send_to(client.socket->fd(), tally_.bytes_sent) == SendOutcome::peer_gone) {
    lose_connection(client);
  }
}

void ChaosCrowd::read_input(Client& client) {
  thread_local std::vector<char> scratch(kReadSize);
  for (int reads = 0; reads < kReadsPerPoll && client.socket; ++reads) {
    const ssize_t got = ::recv(client.socket->fd(), scratch.data(), scratch.size(), 0);
    if (got > 0) {
      tally_.bytes_received += static_cast<std::uint64_t>(got);
      tally_.lines_received +=
          static_cast<std::uint64_t>(std::count(scratch.data(), scratch.data() + got, '\n'));
      if (static_cast<std::size_t>(got) < scratch.size()) return;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (got < 0 && errno != ECONNRESET) {
      throw std::system_error(errno, std::generic_category(), "recv");
    }
    lose_connection(client);
  }
}

void ChaosCrowd::lose_connection(Client& client) {
  ++(client.half_closed ? tally_.closed_after_half_close : tally_.closed_by_server);
  client.socket.reset();
  client.unsent.clear();
  client.half_closed = false;
}

void ChaosCrowd::exchange_data(std::int64_t now, int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<Client*> owners;
  fds.reserve(clients_.size());
  owners.reserve(clients_.size());
  for (auto& client : clients_) {
    if (!client->socket) continue;
    if (client->reads_from != 0 && client->is_reading(now)) {
      client->reads_from = 0;
      ++tally_.resumed_reading;
    }
    short events = 0;
    if (client->is_reading(now)) events |= POLLIN;
    if (!client->unsent.is_empty()) events |= POLLOUT;
    fds.push_back({client->socket->fd(), events, 0});
    owners.push_back(client.get());
  }
  const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "poll");
  }
  for (std::size_t i = 0; i < fds.size() && ready > 0; ++i) {
    const short revents = fds[i].revents;
    if (revents == 0) continue;
    Client& client = *owners[i];
    if ((revents & POLLOUT) != 0) flush_output(client);
    if (!client.socket) continue;
    if ((fds[i].events & POLLIN) != 0) {
      if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_input(client);
    } else if ((revents & (POLLHUP | POLLERR)) != 0) {
      // Reset (or closed both ways) while the client was not reading.
      lose_connection(client);
    }
  }
}

}  // namespace epollchat::test
