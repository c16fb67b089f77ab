#include "bench/load_generator.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bench/delivery_tracker.hpp"
#include "bench/join_barrier.hpp"
#include "bench/latency_histogram.hpp"
#include "bench/payload.hpp"
#include "bench/process_stats.hpp"
#include "bench/redis_traffic.hpp"
#include "bench/resp_reader.hpp"
#include "core/tls_context.hpp"
#include "core/tls_stream.hpp"
#include "core/unique_fd.hpp"

namespace epollchat::bench {
namespace {

constexpr std::size_t kReadBuffer = 256 * 1024;
constexpr int kReadsPerTurn = 4;
constexpr std::size_t kMaxCarry = 1 << 20;
constexpr int kEpollBatch = 4096;
constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
// When the join notices of line mode cannot be used as a barrier (a server that announces
// differently, or a node whose notices never reach the others), the room counts as settled
// after this long without a byte.
constexpr std::uint64_t kQuietNs = 1'000'000'000;

// With --tls a connection goes from connecting through handshaking to greeting.
enum class Phase { connecting, handshaking, greeting, ready, closed };

struct Connection {
  UniqueFd fd;
  std::unique_ptr<TlsStream> tls;  // with --tls, over fd; destroyed before it
  std::uint32_t room = 0;          // --rooms: the room it joins; indices below count in it
  std::int64_t receiver = -1;
  std::int64_t sender = -1;
  bool is_in_room = false;  // --rooms: told `You are now in` its room
  Phase phase = Phase::connecting;
  bool is_watching_output = false;
  // TLS: the read budget of a turn ran out with plaintext possibly left inside OpenSSL,
  // where epoll cannot see it; the connection is on State::unfinished_reads.
  bool is_read_unfinished = false;
  // TLS: a read needs the socket to be writable first (OpenSSL has to send something).
  bool is_read_waiting_for_output = false;
  std::string carry;
  std::string out;
  std::size_t out_done = 0;
};

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;
  std::string host;  // the name (or IP address) a TLS certificate must match
};

Address resolve(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon + 1 == spec.size())
    throw std::invalid_argument("invalid server '" + spec + "' (want HOST:PORT)");
  std::string host = spec.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = spec.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw std::invalid_argument("cannot resolve server '" + spec + "': " + gai_strerror(rc));
  Address address;
  std::memcpy(&address.storage, found->ai_addr, found->ai_addrlen);
  address.length = found->ai_addrlen;
  address.text = spec;
  address.host = host;
  freeaddrinfo(found);
  return address;
}

std::string format_double(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// The client's name in `Welcome to the chat room! Your chat ID is: Client #12` (one server)
// or `... Client #b7:12` (a node of a cluster), spelled as join notices spell it.
std::string_view welcomed_name(std::string_view line) {
  constexpr std::string_view kIdIs = "ID is: ";
  if (const auto at = line.find(kIdIs); at != std::string_view::npos)
    return line.substr(at + kIdIs.size());
  const auto at = line.find("Client #");
  return at == std::string_view::npos ? std::string_view{} : line.substr(at);
}

}  // namespace

struct LoadGenerator::State {
  explicit State(Options o) : options(std::move(o)) {}

  Options options;
  std::vector<Address> addresses;
  UniqueFd epoll;
  std::vector<Connection> connections;
  std::vector<std::size_t> sender_connections;
  std::vector<char> scratch = std::vector<char>(kReadBuffer);
  std::optional<TlsContext> tls;               // --tls
  std::vector<std::size_t> unfinished_reads;   // TLS connections to read again next turn
  std::vector<DeliveryTracker> trackers;       // one per room (just one without --rooms)
  std::vector<JoinBarrier> barriers;           // line mode: one per room
  std::vector<std::uint64_t> deliveries_each;  // per --server address
  LatencyHistogram latency;

  std::string frame_template;  // one message as sent: framing around a payload
  std::size_t payload_offset = 0;
  std::vector<std::string> payload_templates;  // per sender
  std::string push_prefix;                     // redis: a `message` push up to the payload

  std::size_t next_to_open = 0;
  std::size_t in_flight = 0;
  std::size_t ready = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bad_frames = 0;
  std::uint64_t slow_downs = 0;
  std::uint64_t link_lost = 0;  // `*** Link to other servers lost` notices (epollchatd --redis)
  std::uint64_t deliveries = 0;
  std::uint64_t last_delivery_ns = 0;
  bool is_measuring = false;
  bool is_stopping_sends = false;
  std::string failure;  // first thing that went wrong, if anything

  // Set up ------------------------------------------------------------------------------

  void plan_connections() {
    const bool is_idle = options.idle_rss_pid != 0;
    const std::uint32_t c = options.clients;
    const std::uint32_t s = is_idle ? 0 : options.senders;
    std::vector<std::int64_t> own_receiver(s, -1);
    deliveries_each.assign(options.servers.size(), 0);
    if (options.mode == Mode::line || is_idle) {
      // Line mode: every connection is in its room and receives; the first S of each room
      // also send. Connection room * C + i is member i of its room.
      const std::uint32_t rooms = std::max(options.rooms, 1u);
      connections.resize(std::size_t{rooms} * c);
      for (std::uint32_t i = 0; i < s; ++i) own_receiver[i] = i;
      const std::size_t servers = options.servers.size();
      for (std::uint32_t room = 0; room < rooms; ++room) {
        const std::size_t first = std::size_t{room} * c;
        const bool is_silent =
            options.rooms > 0 && room % servers >= servers - options.silent_servers;
        const std::uint32_t room_senders = is_silent ? 0 : s;
        for (std::uint32_t i = 0; i < c; ++i) {
          connections[first + i].room = room;
          connections[first + i].receiver = is_idle ? -1 : std::int64_t{i};
        }
        for (std::uint32_t i = 0; i < room_senders; ++i) {
          connections[first + i].sender = i;
          sender_connections.push_back(first + i);
        }
        if (!is_idle)
          trackers.emplace_back(
              c, room_senders, options.window,
              std::vector<std::int64_t>(own_receiver.begin(), own_receiver.begin() + room_senders));
        barriers.emplace_back(c);
      }
    } else {
      // Redis mode: C - 1 subscribers, then S publishers that do not subscribe, so each
      // message reaches C - 1 receivers exactly as in line mode.
      connections.resize(c - 1 + s);
      for (std::uint32_t i = 0; i + 1 < c; ++i) connections[i].receiver = i;
      for (std::uint32_t i = 0; i < s; ++i) {
        connections[c - 1 + i].sender = i;
        sender_connections.push_back(c - 1 + i);
      }
      trackers.emplace_back(c - 1, s, options.window, std::move(own_receiver));
    }
  }

  void build_templates() {
    // Built with append(): g++ 12 at -O3 warns falsely (-Wrestrict) on "literal" + string.
    const std::string& channel = options.channel;
    if (options.mode == Mode::line) {
      frame_template.assign(options.size, 'x');
      frame_template += '\n';
      payload_offset = 0;
    } else {
      std::string head;
      head.append("$").append(std::to_string(channel.size())).append("\r\n");
      head.append(channel).append("\r\n$").append(std::to_string(options.size)).append("\r\n");
      frame_template.append("*3\r\n$7\r\nPUBLISH\r\n").append(head);
      payload_offset = frame_template.size();
      frame_template.append(options.size, 'x').append("\r\n");
      push_prefix.append("*3\r\n$7\r\nmessage\r\n").append(head);
    }
    // Sender s of room r is sender r * S + s in the payload, so a line that reached the wrong
    // room is noticed.
    const std::uint32_t rooms = std::max(options.rooms, 1u);
    for (std::uint32_t s = 0; s < rooms * options.senders; ++s)
      payload_templates.push_back(make_payload_template(s, options.size));
  }

  void open_more() {
    while (in_flight < options.connect_batch && next_to_open < connections.size()) {
      const std::size_t index = next_to_open++;
      const Address& address = address_of(index);
      UniqueFd fd(
          ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
      const int one = 1;
      setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage),
                    address.length) != 0 &&
          errno != EINPROGRESS)
        throw std::system_error(errno, std::generic_category(), "connect to " + address.text);
      epoll_event event{};
      event.events = EPOLLIN | EPOLLOUT;
      event.data.u64 = index;
      if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &event) != 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl");
      connections[index].fd = std::move(fd);
      ++in_flight;
    }
  }

  // Client i goes to address i mod N; with --rooms, every member of room r to r mod N.
  std::size_t address_index(std::size_t index) const noexcept {
    const std::size_t spread = options.rooms > 0 ? connections[index].room : index;
    return spread % addresses.size();
  }
  const Address& address_of(std::size_t index) const noexcept {
    return addresses[address_index(index)];
  }

  void watch(Connection& c, std::size_t index, bool output) {
    epoll_event event{};
    event.events = EPOLLIN | (output ? EPOLLOUT : 0u);
    event.data.u64 = index;
    epoll_ctl(epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &event);
    c.is_watching_output = output;
  }

  void finish_connect(Connection& c, std::size_t index) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      fail(c, "cannot connect to " + address_of(index).text + ": " + std::strerror(error));
      return;
    }
    if (tls) {
      try {
        c.tls = std::make_unique<TlsStream>(*tls, c.fd.get(), address_of(index).host);
      } catch (const TlsSetupError& e) {
        fail(c, e.what());
        return;
      }
      c.phase = Phase::handshaking;
      // Still registered for EPOLLOUT from the connect: say so, so that a handshake waiting
      // to read turns it off rather than being woken by it every turn.
      c.is_watching_output = true;
      continue_handshake(c, index);
      return;
    }
    start_greeting(c, index);
  }

  // Drives the client side of the handshake as far as the socket allows: epoll waits for
  // whichever direction OpenSSL needs next.
  void continue_handshake(Connection& c, std::size_t index) {
    switch (c.tls->handshake()) {
      case TlsStatus::ok:
        start_greeting(c, index);
        // Whatever the server sent behind its handshake may already be inside OpenSSL.
        if (c.phase == Phase::greeting) read_from(c, index);
        return;
      case TlsStatus::want_read:
        if (c.is_watching_output) watch(c, index, false);
        return;
      case TlsStatus::want_write:
        if (!c.is_watching_output) watch(c, index, true);
        return;
      case TlsStatus::closed:
      case TlsStatus::failed:
        fail(c, "TLS handshake with " + address_of(index).text + " failed: " + c.tls->failure());
        return;
    }
  }

  // Connected (and, with --tls, encrypted): redis mode subscribes or pings; line mode waits
  // for the welcome.
  void start_greeting(Connection& c, std::size_t index) {
    c.phase = Phase::greeting;
    watch(c, index, false);
    if (options.mode == Mode::redis) {
      const bool is_subscriber = c.receiver >= 0;
      if (is_subscriber) {
        c.out.assign("*2\r\n$9\r\nSUBSCRIBE\r\n$").append(std::to_string(options.channel.size()));
        c.out.append("\r\n").append(options.channel).append("\r\n");
      } else {
        c.out.assign("*1\r\n$4\r\nPING\r\n");
      }
      flush(c, index);
    }
  }

  void mark_ready(Connection& c) {
    if (c.phase != Phase::greeting) return;
    c.phase = Phase::ready;
    --in_flight;
    ++ready;
  }

  // Failures ------------------------------------------------------------------------------

  void fail(Connection& c, std::string reason) {
    if (failure.empty()) failure = std::move(reason);
    close(c);
  }

  void close(Connection& c) {
    if (c.phase == Phase::closed) return;
    if (c.phase != Phase::ready) --in_flight;
    c.phase = Phase::closed;
    epoll_ctl(epoll.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
    c.tls.reset();
    c.fd.reset();
    c.out.clear();
    c.carry.clear();
  }

  // Output --------------------------------------------------------------------------------

  void flush(Connection& c, std::size_t index) {
    if (c.tls) {
      flush_tls(c, index);
      return;
    }
    while (c.out_done < c.out.size()) {
      const ssize_t n =
          ::send(c.fd.get(), c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.is_watching_output) watch(c, index, true);
        return;
      }
      fail(c, std::string("send: ") + std::strerror(errno));
      return;
    }
    c.out.clear();
    c.out_done = 0;
    if (c.is_watching_output) watch(c, index, false);
  }

  void flush_tls(Connection& c, std::size_t index) {
    while (c.out_done < c.out.size()) {
      // After want_write the same bytes are offered again, now perhaps with more behind
      // them: c.out only grows until it is written out.
      const auto result =
          c.tls->write(std::string_view(c.out.data() + c.out_done, c.out.size() - c.out_done));
      switch (result.status) {
        case TlsStatus::ok:
          c.out_done += result.bytes;
          continue;
        case TlsStatus::want_write:
          if (!c.is_watching_output) watch(c, index, true);
          return;
        case TlsStatus::want_read:
          // Only the socket's next input can move the write on; turn() retries then.
          if (c.is_watching_output) watch(c, index, false);
          return;
        case TlsStatus::closed:
        case TlsStatus::failed:
          fail(c, "TLS write: " + (c.tls->failure().empty()
                                       ? std::string(std::strerror(c.tls->error()))
                                       : c.tls->failure()));
          return;
      }
    }
    c.out.clear();
    c.out_done = 0;
    if (c.is_watching_output && !c.is_read_waiting_for_output) watch(c, index, false);
  }

  // Appends as many messages as the sender's window allows and writes them in one go.
  void top_up(std::size_t index) {
    Connection& c = connections[index];
    if (c.phase != Phase::ready) return;
    const auto s = static_cast<std::uint32_t>(c.sender);
    DeliveryTracker& tracker = trackers[c.room];
    const std::uint32_t sent = tracker.sent(s);
    std::uint32_t n = std::min(tracker.credit(s), options.messages - sent);
    if (is_stopping_sends) n = 0;
    if (n > 0) {
      const std::uint64_t now = monotonic_ns();
      const std::string& payload = payload_templates[c.room * options.senders + s];
      std::memcpy(frame_template.data() + payload_offset, payload.data(), payload.size());
      std::size_t at = c.out.size();
      c.out.resize(at + std::size_t{n} * frame_template.size());
      for (std::uint32_t k = 0; k < n; ++k) {
        std::memcpy(c.out.data() + at, frame_template.data(), frame_template.size());
        stamp_payload(c.out.data() + at + payload_offset, sent + k, now);
        at += frame_template.size();
      }
      tracker.note_sent(s, n);
    }
    if (c.out_done < c.out.size() && !c.is_watching_output) flush(c, index);
  }

  // Input ---------------------------------------------------------------------------------

  void read_from(Connection& c, std::size_t index) {
    if (c.tls) {
      read_from_tls(c, index);
      return;
    }
    for (int round = 0; round < kReadsPerTurn; ++round) {
      const std::size_t have = c.carry.size();
      std::memcpy(scratch.data(), c.carry.data(), have);
      const std::size_t room = scratch.size() - have;
      const ssize_t n = ::read(c.fd.get(), scratch.data() + have, room);
      if (n > 0) {
        if (!take_input(c, have, static_cast<std::size_t>(n))) return;
        if (static_cast<std::size_t>(n) < room) return;
        continue;
      }
      if (n == 0) {
        fail(c, "server closed a connection");
        return;
      }
      if (errno == EINTR) {
        --round;
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail(c, std::string("read: ") + std::strerror(errno));
      return;
    }
    (void)index;
  }

  // Takes what was read into scratch after the carried bytes; false if the connection
  // closed meanwhile.
  bool take_input(Connection& c, std::size_t have, std::size_t n) {
    bytes_read += n;
    const std::size_t total = have + n;
    const std::uint64_t now = monotonic_ns();
    const std::size_t used = options.mode == Mode::line
                                 ? consume_lines(c, scratch.data(), total, now)
                                 : consume_resp(c, scratch.data(), total, now);
    if (c.phase == Phase::closed) return false;
    if (total - used > kMaxCarry) {
      fail(c, "unterminated frame of more than 1 MiB from the server");
      return false;
    }
    c.carry.assign(scratch.data() + used, total - used);
    return true;
  }

  // As read_from, through OpenSSL. Level-triggered epoll sees only the socket, not the
  // plaintext OpenSSL may hold when the budget runs out: such a connection is read again
  // next turn from unfinished_reads.
  void read_from_tls(Connection& c, std::size_t index) {
    if (c.is_read_waiting_for_output) {
      c.is_read_waiting_for_output = false;
      if (c.is_watching_output && c.out_done == c.out.size()) watch(c, index, false);
    }
    for (int round = 0; round < kReadsPerTurn; ++round) {
      const std::size_t have = c.carry.size();
      std::memcpy(scratch.data(), c.carry.data(), have);
      const std::size_t room = scratch.size() - have;
      const auto result = c.tls->read(std::span<char>(scratch.data() + have, room));
      switch (result.status) {
        case TlsStatus::ok:
          if (!take_input(c, have, result.bytes)) return;
          // A short read without is_drained(): the peer's close is next, reported by the
          // next call.
          if (result.bytes < room && c.tls->is_drained()) return;
          continue;
        case TlsStatus::want_read:
          return;
        case TlsStatus::want_write:
          c.is_read_waiting_for_output = true;
          if (!c.is_watching_output) watch(c, index, true);
          return;
        case TlsStatus::closed:
          fail(c, "server closed a connection");
          return;
        case TlsStatus::failed:
          fail(c,
               "TLS read: " + (c.tls->failure().empty() ? std::string(std::strerror(c.tls->error()))
                                                        : c.tls->failure()));
          return;
      }
    }
    if (!c.is_read_unfinished) {
      c.is_read_unfinished = true;
      unfinished_reads.push_back(index);
    }
  }

  std::size_t consume_lines(Connection& c, const char* data, std::size_t size, std::uint64_t now) {
    const char* p = data;
    const char* const end = data + size;
    while (p < end) {
      const auto* nl =
          static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      if (nl == nullptr) break;
      handle_line(c, std::string_view(p, static_cast<std::size_t>(nl - p)), now);
      if (c.phase == Phase::closed) return size;
      p = nl + 1;
    }
    return static_cast<std::size_t>(p - data);
  }

  void handle_line(Connection& c, std::string_view line, std::uint64_t now) {
    // A relayed line is `Client #N says >> ` + payload; the payload is the last B bytes, so
    // the prefix needs no parsing.
    if (line.size() > options.size && line[0] == 'C') {
      PayloadFields fields;
      if (parse_payload(line.data() + line.size() - options.size, options.size, fields)) {
        deliver(c, fields, now);
        return;
      }
    }
    if (line.starts_with("*** ")) {
      // `*** NAME joined (K online)`: K counts the whole cluster with --redis, so only the
      // name is used.
      if (const auto joined = line.find(" joined ("); joined != std::string_view::npos) {
        // With --rooms only notices of the client's own room count: those it reads after
        // being told it is there.
        if (!barriers.empty() && (options.rooms == 0 || c.is_in_room))
          barriers[c.room].note_join(index_in_room(c), line.substr(4, joined - 4));
      } else if (options.rooms > 0 && line.starts_with("*** You are now in ")) {
        c.is_in_room = true;
        mark_ready(c);
      } else if (line.starts_with("*** Slow down")) {
        ++slow_downs;  // the server's per-client rate limit (epollchatd --max-rate)
      } else if (line.starts_with("*** Server full") ||
                 line.starts_with("*** Server shutting down")) {
        fail(c, "server said: " + std::string(line));
      } else if (line.starts_with("*** Link to other servers lost")) {
        // A node chatting locally loses the lines of the others: say so at once, the loss
        // itself shows in the result.
        if (link_lost++ == 0) progress("a client was told: " + std::string(line.substr(4)));
      }
      return;
    }
    // `[HH:MM:SS] ...`: a room's history, replayed on entering it between `*** History:` and
    // `*** End of history.`; chat said before this run (a reused Redis keeps it), not ours.
    if (line.starts_with('[')) return;
    if (line.starts_with("Welcome")) {
      if (!barriers.empty()) barriers[c.room].note_welcome(index_in_room(c), welcomed_name(line));
      if (options.rooms == 0) {
        mark_ready(c);
        return;
      }
      // Ready once the server says the client is in its room.
      c.out.append("/join ").append(room_name(c.room)).append("\n");
      flush(c, index_of(c));
      return;
    }
    ++bad_frames;
  }

  std::uint32_t index_of(const Connection& c) const noexcept {
    return static_cast<std::uint32_t>(&c - connections.data());
  }

  std::uint32_t index_in_room(const Connection& c) const noexcept {
    return index_of(c) - c.room * options.clients;
  }

  static std::string room_name(std::uint32_t room) { return "bench-" + std::to_string(room); }

  std::size_t consume_resp(Connection& c, const char* data, std::size_t size, std::uint64_t now) {
    const std::size_t frame_size = push_prefix.size() + options.size + 2;
    std::size_t at = 0;
    while (at < size) {
      // Fast path: a message push of the expected shape.
      if (size - at >= frame_size &&
          std::memcmp(data + at, push_prefix.data(), push_prefix.size()) == 0) {
        PayloadFields fields;
        if (parse_payload(data + at + push_prefix.size(), options.size, fields))
          deliver(c, fields, now);
        else
          ++bad_frames;
        at += frame_size;
        continue;
      }
      RespValue value;
      std::size_t used = 0;
      const RespStatus status = read_resp(data + at, size - at, value, used);
      if (status == RespStatus::incomplete) break;
      if (status == RespStatus::malformed) {
        fail(c, "malformed RESP from the server");
        return size;
      }
      at += used;
      handle_resp(c, value, now);
      if (c.phase == Phase::closed) return size;
    }
    return at;
  }

  void handle_resp(Connection& c, const RespValue& value, std::uint64_t now) {
    switch (value.type) {
      case '+':
        if (value.text == "PONG") mark_ready(c);
        return;
      case ':':
        return;  // a PUBLISH reply: the number of subscribers reached
      case '-':
        fail(c, "redis said: " + std::string(value.text));
        return;
      case '*':
        if (value.elements >= 3 && value.element[0] == "subscribe") {
          mark_ready(c);
          return;
        }
        if (value.elements >= 3 && value.element[0] == "message") {
          PayloadFields fields;
          if (parse_payload(value.element[2].data(), value.element[2].size(), fields)) {
            deliver(c, fields, now);
            return;
          }
        }
        ++bad_frames;
        return;
      default:
        ++bad_frames;
    }
  }

  void deliver(Connection& c, const PayloadFields& fields, std::uint64_t now) {
    const std::uint32_t first = c.room * options.senders;
    if (trackers.empty() || c.receiver < 0 || fields.sender < first ||
        fields.sender - first >= trackers[c.room].senders() || !is_measuring) {
      ++bad_frames;
      return;
    }
    latency.record(now > fields.sent_ns ? now - fields.sent_ns : 0);
    trackers[c.room].record(static_cast<std::uint32_t>(c.receiver), fields.sender - first,
                            fields.seq);
    ++deliveries;
    ++deliveries_each[address_index(index_of(c))];
    last_delivery_ns = now;
  }

  // The loop ------------------------------------------------------------------------------

  void turn(int timeout_ms) {
    epoll_event events[kEpollBatch];
    const int n =
        epoll_wait(epoll.get(), events, kEpollBatch, unfinished_reads.empty() ? timeout_ms : 0);
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const std::size_t index = events[i].data.u64;
      Connection& c = connections[index];
      const std::uint32_t ready_events = events[i].events;
      if (c.phase == Phase::closed) continue;
      if (c.phase == Phase::connecting) {
        if (!(ready_events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
        finish_connect(c, index);
        if (c.phase != Phase::greeting) continue;
      } else if (c.phase == Phase::handshaking) {
        continue_handshake(c, index);
        continue;
      }
      if ((ready_events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ||
          ((ready_events & EPOLLOUT) && c.is_read_waiting_for_output))
        read_from(c, index);
      if (c.phase == Phase::closed || c.out_done == c.out.size()) continue;
      // A TLS write that waited for input (want_read) is retried after any event.
      if ((ready_events & EPOLLOUT) || (c.tls && !c.is_watching_output)) flush(c, index);
    }
    std::vector<std::size_t> again;
    again.swap(unfinished_reads);
    for (const std::size_t index : again) {
      Connection& c = connections[index];
      c.is_read_unfinished = false;
      if (c.phase != Phase::closed) read_from(c, index);
    }
  }

  void progress(const std::string& text) const {
    if (options.progress) std::fprintf(stderr, "epollchat-bench: %s\n", text.c_str());
  }

  bool connect_all() {
    const std::uint64_t start = monotonic_ns();
    std::uint64_t last_change = start;
    std::uint64_t next_report = start + kNsPerSecond;
    std::size_t last_ready = 0;
    while (ready < connections.size()) {
      open_more();
      turn(100);
      if (!failure.empty()) return false;
      const std::uint64_t now = monotonic_ns();
      if (ready != last_ready) {
        last_ready = ready;
        last_change = now;
      } else if (now - last_change > seconds_to_ns(options.timeout_s)) {
        failure = "set-up stalled: " + std::to_string(ready) + " of " +
                  std::to_string(connections.size()) + " connections ready";
        return false;
      }
      if (now >= next_report) {
        progress(std::to_string(ready) + " of " + std::to_string(connections.size()) +
                 " connections ready");
        next_report = now + kNsPerSecond;
      }
    }
    if (options.mode == Mode::line) return settle_room();
    return true;
  }

  // Line mode: every join is announced to the whole room, so C connections cause about
  // C^2/2 notices. Wait until every pair of clients has been introduced by a join notice
  // (JoinBarrier), or, if the server announces differently, until the room has been quiet
  // for a second.
  bool settle_room() {
    std::uint64_t last_bytes = bytes_read;
    std::uint64_t last_change = monotonic_ns();
    std::uint64_t next_report = last_change + kNsPerSecond;
    while (missing_pairs() > 0) {
      turn(100);
      if (!failure.empty()) return false;
      const std::uint64_t now = monotonic_ns();
      if (bytes_read != last_bytes) {
        last_bytes = bytes_read;
        last_change = now;
      } else if (now - last_change > kQuietNs) {
        progress(std::to_string(missing_pairs()) +
                 " pairs of clients saw neither's join notice; going on after a quiet second");
        return true;
      }
      if (now >= next_report) {
        progress("join notices: " + std::to_string(missing_pairs()) +
                 " pairs of clients still to be introduced");
        next_report = now + kNsPerSecond;
      }
    }
    return true;
  }

  // Pairs of clients of one room of which neither has seen the other's join notice yet.
  std::uint64_t missing_pairs() const noexcept {
    std::uint64_t missing = 0;
    for (const JoinBarrier& barrier : barriers) missing += barrier.missing_pairs();
    return missing;
  }

  // A figure summed over the rooms' trackers.
  template <typename Figure>
  std::uint64_t sum(Figure figure) const {
    std::uint64_t total = 0;
    for (const DeliveryTracker& tracker : trackers) total += figure(tracker);
    return total;
  }

  std::optional<RedisTraffic> redis_traffic() const {
    if (options.redis_info.empty()) return std::nullopt;
    const Address address = resolve(options.redis_info);
    return read_redis_traffic(reinterpret_cast<const sockaddr*>(&address.storage), address.length,
                              options.timeout_s);
  }

  // CPU time of each --server-pid process, or nothing if there are none or one is gone.
  std::optional<std::vector<std::uint64_t>> servers_cpu_ns() const {
    if (options.server_pids.empty()) return std::nullopt;
    std::vector<std::uint64_t> each;
    for (const pid_t pid : options.server_pids) {
      const auto ns = process_cpu_ns(pid);
      if (!ns) return std::nullopt;
      each.push_back(*ns);
    }
    return each;
  }

  static std::uint64_t seconds_to_ns(double seconds) {
    return static_cast<std::uint64_t>(seconds * 1e9);
  }

  bool is_sending_done() const {
    if (is_stopping_sends) return true;
    for (const DeliveryTracker& tracker : trackers)
      for (std::uint32_t s = 0; s < tracker.senders(); ++s)
        if (tracker.sent(s) < options.messages) return false;
    return true;
  }

  int measure_idle_memory() {
    const pid_t pid = options.idle_rss_pid;
    const auto before = process_rss_kib(pid);
    if (!before) throw std::runtime_error("cannot read VmRSS of pid " + std::to_string(pid));
    const std::uint64_t start = monotonic_ns();
    const bool is_up = connect_all();
    const double setup_s = static_cast<double>(monotonic_ns() - start) / 1e9;
    const auto after = process_rss_kib(pid);
    if (!is_up || !after) {
      std::fprintf(stderr, "epollchat-bench: %s\n",
                   failure.empty() ? "cannot read VmRSS" : failure.c_str());
      return 1;
    }
    const double per_connection = (static_cast<double>(*after) - static_cast<double>(*before)) *
                                  1024.0 / static_cast<double>(connections.size());
    std::printf(
        "RESULT kind=idle mode=%s clients=%zu rss_before_kib=%llu rss_after_kib=%llu "
        "bytes_per_connection=%s setup_s=%s\n",
        options.mode == Mode::line ? "line" : "redis", connections.size(),
        static_cast<unsigned long long>(*before), static_cast<unsigned long long>(*after),
        format_double(per_connection, 0).c_str(), format_double(setup_s, 2).c_str());
    return 0;
  }

  int measure_throughput() {
    const std::uint64_t setup_start = monotonic_ns();
    if (!connect_all()) {
      std::fprintf(stderr, "epollchat-bench: %s\n", failure.c_str());
      return 1;
    }
    const double setup_s = static_cast<double>(monotonic_ns() - setup_start) / 1e9;
    progress(std::to_string(connections.size()) + " connections ready after " +
             format_double(setup_s, 2) + " s; sending");

    const auto redis_start = redis_traffic();
    const auto server_cpu_start = servers_cpu_ns();
    const std::uint64_t own_cpu_start = own_cpu_ns();
    const std::uint64_t start = monotonic_ns();
    is_measuring = true;
    last_delivery_ns = start;
    std::uint64_t next_report = start + kNsPerSecond;
    std::uint64_t reported = 0;
    bool is_timed_out = false;
    for (const std::size_t index : sender_connections) top_up(index);
    for (;;) {
      turn(50);
      const std::uint64_t now = monotonic_ns();
      if (options.duration_s > 0 && now - start >= seconds_to_ns(options.duration_s))
        is_stopping_sends = true;
      for (const std::size_t index : sender_connections) top_up(index);
      if (is_sending_done() &&
          std::all_of(trackers.begin(), trackers.end(),
                      [](const DeliveryTracker& t) { return t.is_all_delivered(); }))
        break;
      if (!failure.empty()) break;
      if (now - last_delivery_ns > seconds_to_ns(options.timeout_s)) {
        is_timed_out = true;
        break;
      }
      if (now >= next_report) {
        progress(format_double(static_cast<double>(now - start) / 1e9, 1) +
                 " s: " + std::to_string(deliveries) + " deliveries, " +
                 format_double(static_cast<double>(deliveries - reported) / 1e6, 2) + " M/s");
        reported = deliveries;
        next_report += kNsPerSecond;
      }
    }
    const std::uint64_t own_cpu = own_cpu_ns() - own_cpu_start;
    const auto server_cpu_end = servers_cpu_ns();
    const auto redis_end = redis_traffic();
    const std::uint64_t end = std::max(last_delivery_ns, start + 1);
    const double seconds = static_cast<double>(end - start) / 1e9;
    const std::uint64_t unique =
        sum([](const DeliveryTracker& t) { return t.unique_deliveries(); });
    const std::uint64_t expected = sum([](const DeliveryTracker& t) { return t.expected(); });
    const std::uint64_t duplicated = sum([](const DeliveryTracker& t) { return t.duplicated(); });
    const double per_delivery = unique ? 1.0 / static_cast<double>(unique) : 0.0;

    std::string server_cpu = "na";
    std::string server_cpu_s = "na";
    std::string server_cpu_s_each;
    if (server_cpu_start && server_cpu_end) {
      std::uint64_t total = 0;
      for (std::size_t i = 0; i < server_cpu_start->size(); ++i) {
        const std::uint64_t ns = (*server_cpu_end)[i] - (*server_cpu_start)[i];
        total += ns;
        if (i > 0) server_cpu_s_each += ',';
        server_cpu_s_each += format_double(static_cast<double>(ns) / 1e9, 3);
      }
      server_cpu = format_double(static_cast<double>(total) * per_delivery, 1);
      server_cpu_s = format_double(static_cast<double>(total) / 1e9, 3);
    }
    // Fields beyond those of one server go at the end, only when they apply, so the line
    // for one server reads as it always has.
    std::string extra;
    if (options.servers.size() > 1) extra += " servers=" + std::to_string(options.servers.size());
    if (options.server_pids.size() > 1)
      extra += " server_cpu_s_each=" + (server_cpu_s_each.empty() ? "na" : server_cpu_s_each);
    if (link_lost > 0) extra += " link_lost=" + std::to_string(link_lost);
    if (tls) extra += " tls=1";
    if (options.rooms > 0) {
      extra += " rooms=" + std::to_string(options.rooms);
      if (options.silent_servers > 0)
        extra += " silent_servers=" + std::to_string(options.silent_servers);
      extra += " deliveries_each=";
      for (std::size_t i = 0; i < deliveries_each.size(); ++i)
        extra += (i > 0 ? "," : "") + std::to_string(deliveries_each[i]);
    }
    if (!options.redis_info.empty()) {
      const auto delta = [&](std::uint64_t RedisTraffic::*field) {
        return redis_start && redis_end
                   ? std::to_string((*redis_end).*field - (*redis_start).*field)
                   : std::string("na");
      };
      extra += " redis_in_bytes=" + delta(&RedisTraffic::input_bytes) +
               " redis_out_bytes=" + delta(&RedisTraffic::output_bytes) +
               " redis_publishes=" + delta(&RedisTraffic::publishes);
    }
    std::uint32_t max_sent = 0;
    for (const DeliveryTracker& tracker : trackers)
      for (std::uint32_t s = 0; s < tracker.senders(); ++s)
        max_sent = std::max(max_sent, tracker.sent(s));
    const std::uint64_t lost = expected - unique;
    if (!failure.empty()) std::fprintf(stderr, "epollchat-bench: %s\n", failure.c_str());
    if (is_timed_out)
      std::fprintf(stderr, "epollchat-bench: no delivery for %.1f s; giving up\n",
                   options.timeout_s);
    if (lost > 0)
      std::fprintf(stderr, "epollchat-bench: %llu of %llu deliveries lost\n",
                   static_cast<unsigned long long>(lost),
                   static_cast<unsigned long long>(expected));

    std::printf(
        "RESULT mode=%s clients=%u senders=%u size=%u window=%u messages=%u connections=%zu "
        "seconds=%s deliveries=%llu expected=%llu rate=%s p50_us=%s p99_us=%s max_us=%s "
        "lost=%llu reordered=%llu dup=%llu bad=%llu server_cpu_s=%s bench_cpu_s=%s "
        "server_cpu_ns_per_delivery=%s bench_cpu_ns_per_delivery=%s setup_s=%s slow_downs=%llu%s\n",
        options.mode == Mode::line ? "line" : "redis", options.clients, options.senders,
        options.size, options.window, max_sent, connections.size(),
        format_double(seconds, 3).c_str(), static_cast<unsigned long long>(unique),
        static_cast<unsigned long long>(expected),
        format_double(static_cast<double>(unique) / seconds, 0).c_str(),
        format_double(static_cast<double>(latency.percentile(0.50)) / 1e3, 1).c_str(),
        format_double(static_cast<double>(latency.percentile(0.99)) / 1e3, 1).c_str(),
        format_double(static_cast<double>(latency.max()) / 1e3, 1).c_str(),
        static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(
            sum([](const DeliveryTracker& t) { return t.reordered(); })),
        static_cast<unsigned long long>(duplicated),
        static_cast<unsigned long long>(
            bad_frames + sum([](const DeliveryTracker& t) { return t.out_of_window(); })),
        server_cpu_s.c_str(), format_double(static_cast<double>(own_cpu) / 1e9, 3).c_str(),
        server_cpu.c_str(), format_double(static_cast<double>(own_cpu) * per_delivery, 1).c_str(),
        format_double(setup_s, 2).c_str(), static_cast<unsigned long long>(slow_downs),
        extra.c_str());
    std::fflush(stdout);
    return lost == 0 && failure.empty() && !is_timed_out && duplicated == 0 ? 0 : 1;
  }
};

LoadGenerator::LoadGenerator(Options options)
    : state_(std::make_unique<State>(std::move(options))) {}

LoadGenerator::~LoadGenerator() = default;

int LoadGenerator::run() {
  State& s = *state_;
  for (const auto& spec : s.options.servers) s.addresses.push_back(resolve(spec));
  s.plan_connections();
  s.build_templates();
  const std::uint64_t limit = raise_fd_limit();
  if (s.connections.size() + 16 > limit)
    throw std::runtime_error("need " + std::to_string(s.connections.size() + 16) +
                             " file descriptors but RLIMIT_NOFILE allows " + std::to_string(limit));
  if (s.options.tls) s.tls.emplace(TlsContext::for_client(s.options.tls_ca));
  s.epoll.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!s.epoll) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return s.options.idle_rss_pid ? s.measure_idle_memory() : s.measure_throughput();
}

}  // namespace epollchat::bench
