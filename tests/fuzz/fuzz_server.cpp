// libFuzzer target: the real Server, in process, driven step by step from the input.
//
// Its clients are socketpairs the target holds the other ends of; its link to other nodes is
// a fake the input brings up and down; its clock is moved on by the input. Each step is one
// thing a client or the world does (connect, send a line, a command or raw bytes, stop or
// start reading, half-close, close, let time pass, link up or down, a message from another
// node, Redis answering a nickname claim, a room's history coming in from Redis, a planned
// restart into a fresh server), followed
// by turns of the event loop. Whatever
// the order and however states meet in one turn (a congested reader that is also a paused
// sender and closes; a claim answered for a session closed in the same turn), it checks:
// - nothing is touched after it was freed (ASan does that);
// - after every turn, no session's queue holds more memory than its bound
//   (1.25 x max-backlog, OutputQueue::pinned_bytes());
// - client 0, which stays in the lobby and reads everything at once, is never cut off, and
//   gets the chat lines of every other client in the order each sent them, none twice;
// - at the end, once every client reads, every line a well-behaved client sent in the lobby
//   has reached client 0: nobody stays paused and nothing is lost, restarts included;
// - the state a server saves for a restart is always one a server with its limits accepts.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/node_link.hpp"
#include "chat/node_message.hpp"
#include "chat/saved_state.hpp"
#include "chat/server.hpp"
#include "chat/server_limits.hpp"
#include "cluster/message_codec.hpp"
#include "core/clock.hpp"
#include "core/event_loop.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "unit/chat/fake_link.hpp"

namespace epollchat::chat {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_server: %s\n", what.c_str());
  std::abort();
}

// The input, read from the front; zeros once it runs out.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  [[nodiscard]] bool empty() const { return position_ >= size_; }
  std::uint8_t byte() { return empty() ? 0 : data_[position_++]; }
  std::size_t below(std::size_t bound) { return bound == 0 ? 0 : byte() % bound; }
  std::string bytes(std::size_t max) {
    const std::size_t length = below(max + 1);
    std::string out;
    while (out.size() < length && !empty()) out.push_back(static_cast<char>(byte()));
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

using test::FakeLink;

constexpr std::size_t kMaxClients = 8;
constexpr std::string_view kRooms[] = {"lobby", "dev", "ops", "LOBBY"};
constexpr std::string_view kRoomNames[] = {"lobby", "dev", "ops"};
constexpr std::string_view kNames[] = {"alice", "bob", "Alice", "carol"};

struct Client {
  UniqueFd fd;
  std::uint64_t id = 0;
  bool reading = true;
  bool closed = false;
  // Sent only lines the oracle can follow: its lobby lines must all reach client 0.
  bool well_behaved = true;
  bool in_lobby = true;
  std::string outbox;   // written when the socket takes it
  std::string partial;  // received, not yet a whole line
  std::uint64_t next_line = 0;
  // Lines it sent while in the lobby, in order.
  std::vector<std::uint64_t> lobby_lines;
};

class Harness {
 public:
  explicit Harness(Input& input) : input_(input) {
    const std::size_t max_lines[] = {64, 256, 4096};
    limits_.connection.max_line = max_lines[input_.below(3)];
    const std::size_t backlogs[] = {0, 8 * 1024, 64 * 1024, 1024 * 1024};
    limits_.connection.max_backlog =
        std::max(backlogs[input_.below(4)], limits_.connection.max_line + 256);
    const std::size_t rates[] = {0, 50, 10'000};
    limits_.connection.max_rate = rates[input_.below(3)];
    const std::size_t timeouts[] = {0, 1, 60};
    limits_.line_timeout = std::chrono::seconds(timeouts[input_.below(3)]);
    limits_.max_clients = kMaxClients - 1;  // the last connection attempt is refused
    server_ = std::make_unique<Server>(loop_, log_, limits_);
    if (input_.below(2) == 1) link();
    connect();  // client 0: the reader that keeps up
  }

  ~Harness() {
    clients_.clear();
    server_.reset();
  }

  void step() {
    const std::size_t op = input_.below(18);
    Client* client = pick();
    switch (op) {
      case 0:
        connect();
        break;
      case 1:
      case 2:
      case 3:
        if (client != nullptr) say(*client);
        break;
      case 4:
        if (client != nullptr) command(*client);
        break;
      case 5:
        if (client != nullptr) send_raw(*client);
        break;
      case 6:
        if (client != nullptr) client->reading = !client->reading;
        break;
      case 7:
        if (client != nullptr) half_close(*client);
        break;
      case 8:
        if (client != nullptr) close(*client);
        break;
      case 9:
        let_time_pass(std::chrono::milliseconds(50 << input_.below(8)));
        break;
      case 10:
        if (link_ != nullptr) input_.below(2) == 0 ? link_->go_up() : link_->go_down();
        break;
      case 11:
        remote_message();
        break;
      case 12:
        if (link_ != nullptr) link_->answer_claim(input_.below(2) == 0);
        break;
      case 13:
        if (link_ != nullptr) link_->set_over_limit(input_.below(2) == 0);
        if (link_ != nullptr && link_->is_up()) link_->handler().on_presence_lost();
        break;
      case 14:
        if (link_ != nullptr && link_->is_up()) link_->handler().on_link_beat();
        break;
      case 15:
        reload();
        break;
      case 16:
        room_history();
        break;
      default:
        restart();
        break;
    }
    turns(1 + input_.below(3));
  }

  // Everyone reads, the link answers, time passes: every well-behaved lobby line must
  // reach client 0.
  void finish() {
    for (auto& client : clients_) client->reading = true;
    if (link_ != nullptr) link_->set_over_limit(false);
    for (int round = 0; round < 400 && !all_delivered(); ++round) {
      if (link_ != nullptr) link_->answer_all_claims();
      let_time_pass(std::chrono::milliseconds(100));
      turns(4);
    }
    for (const auto& client : clients_) {
      if (!client->well_behaved || client->closed || client.get() == clients_[0].get()) continue;
      if (!is_alive(*client)) continue;  // cut off or refused: its unread input is gone
      const auto seen = seen_.find(client->id);
      const std::uint64_t delivered = seen == seen_.end() ? 0 : seen->second.count;
      if (delivered != client->lobby_lines.size()) {
        fail("client #" + std::to_string(client->id) + " sent " +
             std::to_string(client->lobby_lines.size()) + " lobby lines, client 0 got " +
             std::to_string(delivered));
      }
    }
  }

 private:
  struct Seen {
    std::uint64_t count = 0;
    std::optional<std::uint64_t> last;
  };

  Client* pick() {
    if (clients_.size() <= 1) return nullptr;
    Client& client = *clients_[1 + input_.below(clients_.size() - 1)];
    return client.closed ? nullptr : &client;
  }

  void connect() {
    if (clients_.size() >= kMaxClients) return;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      fail("socketpair failed");
    }
    UniqueFd server_end(fds[0]);
    auto client = std::make_unique<Client>();
    client->fd = UniqueFd(fds[1]);
    // Small buffers towards some clients make them congested soon; client 0 gets a large
    // one, so that it keeps up with whatever one turn can queue for it.
    const int buffers[] = {2048, 16 * 1024, 0};
    const int buffer = clients_.empty() ? 8 * 1024 * 1024 : buffers[input_.below(3)];
    if (buffer != 0) {
      // Beyond net.core.wmem_max only with CAP_NET_ADMIN; without it, as large as allowed.
      if (!clients_.empty() ||
          setsockopt(server_end.get(), SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
        (void)setsockopt(server_end.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
      }
    }
    server_->on_accepted(std::move(server_end));
    clients_.push_back(std::move(client));
    Client& joined = *clients_.back();
    read(joined);
    if (joined.id == 0 && !joined.closed) {
      // Refused (server full) or not welcomed yet: not a chat member.
      joined.well_behaved = false;
    }
  }

  void write(Client& client, std::string_view bytes) {
    client.outbox.append(bytes);
    flush(client);
  }

  void flush(Client& client) {
    while (!client.outbox.empty() && !client.closed) {
      const ssize_t n =
          send(client.fd.get(), client.outbox.data(), client.outbox.size(), MSG_NOSIGNAL);
      if (n > 0) {
        client.outbox.erase(0, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      // The server closed it.
      client.outbox.clear();
      client.well_behaved = false;
      return;
    }
  }

  void say(Client& client) {
    const std::uint64_t number = client.next_line++;
    if (client.in_lobby && client.well_behaved) client.lobby_lines.push_back(number);
    write(client, "m" + std::to_string(client.id) + "." + std::to_string(number) + "\n");
  }

  void command(Client& client) {
    std::string line;
    switch (input_.below(11)) {
      case 0:
        line = "/who";
        break;
      case 1:
        line = "/rooms";
        break;
      case 2:
        line = "/help";
        break;
      case 3:
        line = "/nick " + std::string(kNames[input_.below(std::size(kNames))]);
        break;
      case 4: {
        const std::string_view room = kRooms[input_.below(std::size(kRooms))];
        line = "/join " + std::string(room);
        client.in_lobby = room == "lobby" || room == "LOBBY";
        break;
      }
      case 5:
        line = "/part";
        client.in_lobby = true;
        break;
      case 6:
        line = "/me waves";
        break;
      case 7:
        line = "/msg #" + std::to_string(1 + input_.below(kMaxClients)) + " psst";
        break;
      case 8:
        line = "/msg " + std::string(kNames[input_.below(std::size(kNames))]) + " psst";
        break;
      case 9:
        line = "/quit bye";
        client.well_behaved = false;
        break;
      default:
        line = "/bogus";
        break;
    }
    write(client, line + "\n");
  }

  void send_raw(Client& client) {
    std::string bytes = input_.bytes(512);
    // Raw bytes never spell a line the oracle would take for a well-behaved client's.
    for (char& c : bytes) {
      if (c == 'm') c = 'n';
    }
    client.well_behaved = false;
    write(client, bytes);
  }

  void half_close(Client& client) {
    flush(client);
    (void)shutdown(client.fd.get(), SHUT_WR);
    client.well_behaved = false;
  }

  void close(Client& client) {
    client.fd.reset();
    client.closed = true;
    client.well_behaved = false;
  }

  void let_time_pass(std::chrono::milliseconds duration) {
    // Client 0 reads everything before time passes, so it is never a stalled reader.
    turns(2);
    skew_clock(duration);
    server_->flow().run_checks();
    if (link_ != nullptr && link_->is_up()) link_->handler().on_link_beat();
  }

  // The history of a room that catches up comes in (or Redis refused to read it). Its lines
  // are not the oracle's ("h..."), and client 0 must not read its own lobby's live lines in
  // one.
  void room_history() {
    if (link_ == nullptr) return;
    const std::string_view room = kRoomNames[input_.below(std::size(kRoomNames))];
    if (!link_->is_catching_up(room)) return;
    std::vector<chat::RecordedLine> lines(input_.below(4));
    for (chat::RecordedLine& line : lines) {
      line.milliseconds = 1'700'000'000'000 + input_.below(1'000'000);
      line.kind = input_.below(2) == 0 ? NodeMessageKind::chat : NodeMessageKind::action;
      line.name = input_.below(2) == 0 ? "bob" : "Client #b:1";
      line.text = input_.below(2) == 0 ? "h1" : "h2\nh3";
    }
    link_->deliver_history(room, lines, input_.below(4) != 0);
  }

  void remote_message() {
    if (link_ == nullptr || !link_->is_up()) return;
    NodeMessage message;
    const NodeMessageKind kinds[] = {NodeMessageKind::join,   NodeMessageKind::leave,
                                     NodeMessageKind::rename, NodeMessageKind::chat,
                                     NodeMessageKind::action, NodeMessageKind::whisper,
                                     NodeMessageKind::roster, NodeMessageKind::sync,
                                     NodeMessageKind::bye,    NodeMessageKind::beat};
    message.kind = kinds[input_.below(std::size(kinds))];
    message.node = input_.below(2) == 0 ? "b" : "c";
    message.instance = input_.below(2) == 0 ? "00000000000000bb" : "00000000000000cc";
    message.id = 1 + input_.below(4);
    std::string name = "Client #" + std::string(message.node) + ":" + std::to_string(message.id);
    if (input_.below(2) == 0) name = std::string(kNames[input_.below(std::size(kNames))]);
    message.name = name;
    message.old_name = name;
    const std::string room(kRooms[input_.below(3)]);
    message.room = room;
    // Remote text never looks like a line of a local client to the oracle.
    std::string text = "r" + input_.bytes(limits_.connection.max_line + 64);
    for (char& c : text) {
      if (c == '\n' && input_.below(4) != 0) c = ' ';
    }
    message.text = text;
    message.target_node = "a";
    message.target_id = 1 + input_.below(kMaxClients);
    message.target_instance = "0123456789abcdef";
    if (message.kind == NodeMessageKind::roster) {
      text = std::to_string(message.id) + "\t" + room + "\t" + name;
      message.text = text;
    }
    // What reaches the server has passed the decoder.
    const std::string payload = cluster::encode_node_message(message);
    if (const auto decoded = cluster::decode_node_message(payload))
      link_->handler().on_node_message(*decoded);
  }

  void reload() {
    ServerLimits fresh = limits_;
    const std::size_t max_lines[] = {64, 256, 4096};
    fresh.connection.max_line = max_lines[input_.below(3)];
    fresh.connection.max_backlog =
        std::max(fresh.connection.max_backlog, fresh.connection.max_line + 256);
    const std::size_t rates[] = {0, 50, 10'000};
    fresh.connection.max_rate = rates[input_.below(3)];
    const std::size_t timeouts[] = {0, 1, 60};
    fresh.line_timeout = std::chrono::seconds(timeouts[input_.below(3)]);
    limits_ = fresh;
    server_->apply_limits(limits_);
  }

  void link() {
    server_->link_to_other_nodes([this](NodeLinkHandler& handler) {
      auto link = std::make_unique<FakeLink>(handler);
      link_ = link.get();
      return link;
    });
  }

  // A planned restart as the daemon makes one, the service manager's store played by
  // duplicates of the server's sockets: the server stops reading and flushes for a few
  // turns, saves its sessions, and a fresh one restores them.
  void restart() {
    server_->prepare_restart();
    turns(1 + input_.below(3));
    const std::string saved = encode_saved_state(server_->save_sessions());
    std::map<std::uint64_t, UniqueFd> kept;
    for (const auto& [id, session] : server_->sessions()) {
      kept.emplace(id, UniqueFd(fcntl(session->connection().fd(), F_DUPFD_CLOEXEC, 0)));
    }
    const bool linked = link_ != nullptr;
    link_ = nullptr;
    server_.reset();
    server_ = std::make_unique<Server>(loop_, log_, limits_);
    if (linked) link();
    SavedState state;
    try {
      state = decode_saved_state(saved, Server::restorable_limits(limits_));
    } catch (const SavedStateError& refusal) {
      fail(std::string("a server refused the state a server with its limits saved: ") +
           refusal.what());
    }
    (void)server_->restore_sessions(state, [&kept](std::uint64_t id) {
      const auto found = kept.find(id);
      return found == kept.end() ? UniqueFd() : std::move(found->second);
    });
  }

  void turns(std::size_t count) {
    for (std::size_t turn = 0; turn < count; ++turn) {
      loop_.run_once(0);
      check_memory();
      for (auto& client : clients_) {
        flush(*client);
        if (client->reading) read(*client);
      }
    }
  }

  void check_memory() const {
    const std::size_t bound = limits_.connection.max_backlog + limits_.connection.max_backlog / 4;
    for (const auto& [id, session] : server_->sessions()) {
      const std::size_t pinned = session->connection().pinned_output_bytes();
      if (session->connection().is_open() && pinned > bound) {
        fail("client #" + std::to_string(id) + "'s queue pins " + std::to_string(pinned) +
             " bytes, over " + std::to_string(bound));
      }
    }
  }

  [[nodiscard]] bool is_alive(const Client& client) const {
    const auto found = server_->sessions().find(client.id);
    return found != server_->sessions().end() && found->second->connection().is_open();
  }

  void read(Client& client) {
    if (client.closed) return;
    char buffer[65536];
    for (;;) {
      const ssize_t n = recv(client.fd.get(), buffer, sizeof buffer, 0);
      if (n > 0) {
        client.partial.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        if (&client == clients_.front().get()) fail("client 0 was cut off though it kept up");
        client.closed = true;
      }
      break;
    }
    std::size_t start = 0;
    for (std::size_t end; (end = client.partial.find('\n', start)) != std::string::npos;
         start = end + 1) {
      on_line(client, std::string_view(client.partial).substr(start, end - start));
    }
    client.partial.erase(0, start);
  }

  void on_line(Client& client, std::string_view line) {
    if (client.id == 0) {
      // "Welcome to the chat room! Your chat ID is: Client #N" (or "#node:N").
      const auto hash = line.rfind('#');
      const auto colon = line.rfind(':');
      if (line.starts_with("Welcome") && hash != std::string_view::npos) {
        const std::size_t digits =
            colon != std::string_view::npos && colon > hash ? colon + 1 : hash + 1;
        std::from_chars(line.data() + digits, line.data() + line.size(), client.id);
      }
      return;
    }
    if (&client != clients_.front().get()) return;
    // A history line ("[HH:MM:SS] ..."): the lines client 0 is owed come live.
    if (line.starts_with('[')) return;
    constexpr std::string_view kSays = " says >> ";
    const auto says = line.find(kSays);
    if (says == std::string_view::npos) return;
    const std::string_view text = line.substr(says + kSays.size());
    // "m<id>.<number>"
    if (!text.starts_with('m')) return;
    std::uint64_t sender = 0;
    std::uint64_t number = 0;
    const char* end = text.data() + text.size();
    const auto [dot, sender_error] = std::from_chars(text.data() + 1, end, sender);
    if (sender_error != std::errc() || dot == end || *dot != '.') fail("malformed line");
    const auto [stop, number_error] = std::from_chars(dot + 1, end, number);
    if (number_error != std::errc() || stop != end) fail("malformed line");
    Seen& seen = seen_[sender];
    if (seen.last && number <= *seen.last) {
      fail("line " + std::to_string(number) + " of client #" + std::to_string(sender) +
           " after line " + std::to_string(*seen.last) + ": duplicated or out of order");
    }
    seen.last = number;
    ++seen.count;
  }

  [[nodiscard]] bool all_delivered() const {
    for (const auto& client : clients_) {
      if (!client->well_behaved || client->closed || client.get() == clients_[0].get()) continue;
      if (!is_alive(*client)) continue;
      const auto seen = seen_.find(client->id);
      if ((seen == seen_.end() ? 0 : seen->second.count) != client->lobby_lines.size())
        return false;
    }
    return true;
  }

  Input& input_;
  EventLoop loop_;
  Log log_{LogLevel::emerg};
  ServerLimits limits_;
  std::unique_ptr<Server> server_;
  FakeLink* link_ = nullptr;
  std::vector<std::unique_ptr<Client>> clients_;
  std::map<std::uint64_t, Seen> seen_;
};

}  // namespace
}  // namespace epollchat::chat

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  epollchat::chat::Input input(data, size);
  epollchat::chat::Harness harness(input);
  for (int steps = 0; steps < 200 && !input.empty(); ++steps) harness.step();
  harness.finish();
  return 0;
}
