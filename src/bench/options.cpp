#include "bench/options.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "bench/delivery_tracker.hpp"
#include "bench/payload.hpp"

namespace epollchat::bench {

const char* const kUsage =
    "usage: epollchat-bench [options]\n"
    "  --mode line|redis     epollchatd protocol, or SUBSCRIBE/PUBLISH to redis-server (line)\n"
    "  --server HOST:PORT    repeatable; client i connects to the (i mod N)-th address, so\n"
    "                        senders and receivers spread over all of them; they must all\n"
    "                        reach one room (epollchatd nodes linked with --redis) or one\n"
    "                        redis instance (127.0.0.1:8888 in line mode, 127.0.0.1:6379\n"
    "                        in redis mode)\n"
    "  --clients C           every message reaches C - 1 receivers (100). line: C connections,\n"
    "                        the first S of them also send; redis: C - 1 subscribers plus S\n"
    "                        publishers that do not subscribe\n"
    "  --senders S           (10)\n"
    "  --rooms N             line mode: N rooms `bench-0` .. `bench-N-1`, each of C clients of\n"
    "                        which S send, so N * C connections; every member of room r\n"
    "                        connects to the (r mod N)-th --server and sends /join before the\n"
    "                        clock starts (0: everyone stays in the lobby; the default)\n"
    "  --silent-servers K    with --rooms: the rooms on the last K --server addresses get no\n"
    "                        senders, so those servers only receive what the link brings\n"
    "  --messages M          per sender; an upper bound if --duration is given (10000)\n"
    "  --size B              payload bytes, at least 31 (64)\n"
    "  --window W            a sender is at most W messages ahead of its slowest receiver,\n"
    "                        1..64 (default: 64, less for big payloads or many clients)\n"
    "  --duration SECONDS    stop starting new messages after this long\n"
    "  --timeout SECONDS     give up after this long without progress and report loss (10)\n"
    "  --connect-batch N     connections set up at once (256)\n"
    "  --server-pid PID      report PID's CPU time (utime+stime, /proc/PID/stat) per delivery;\n"
    "                        repeatable: the sum, and each one in server_cpu_s_each\n"
    "  --redis-info HOST:PORT\n"
    "                        report that redis-server's traffic over the measurement (INFO\n"
    "                        stats and commandstats, read just before and just after it)\n"
    "  --idle-rss PID        open C idle connections and report PID's RSS growth per connection\n"
    "  --channel NAME        redis channel (epollchat-bench)\n"
    "  --tls                 TLS on every connection: a non-blocking handshake after connect,\n"
    "                        the server's certificate verified (its name against the HOST of\n"
    "                        --server, an IP address against the certificate's IP entries)\n"
    "                        against the system's trust store; the handshakes are part of\n"
    "                        set-up, not of the measurement\n"
    "  --tls-ca FILE         verify against the CA certificate(s) in FILE (PEM) instead;\n"
    "                        implies --tls\n"
    "  --quiet               no progress on stderr\n"
    "Prints one `RESULT key=value ...` line on stdout; exits 1 if anything was lost. With\n"
    "several servers it ends in servers=N (and server_cpu_s_each=... with several PIDs,\n"
    "link_lost=N if a node said it lost its link); with --tls it ends in tls=1; with --rooms\n"
    "in rooms=N [silent_servers=K] deliveries_each=D1,D2,... (deliveries to the clients of each "
    "--server);\n"
    "with --redis-info in redis_in_bytes=, redis_out_bytes=, redis_publishes=.\n";

namespace {

template <typename T>
T parse_number(std::string_view name, std::string_view text, T min, T max) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max)
    throw std::invalid_argument("invalid " + std::string(name) + " '" + std::string(text) + "'");
  return value;
}

double parse_seconds(std::string_view name, std::string_view text) {
  try {
    std::size_t used = 0;
    const double value = std::stod(std::string(text), &used);
    if (used == text.size() && value >= 0 && value < 1e6) return value;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("invalid " + std::string(name) + " '" + std::string(text) + "'");
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const auto flag = [&](std::string_view name) {
      if (arg != name) return false;
      if (has_value) throw std::invalid_argument("option " + std::string(name) + " takes no value");
      return true;
    };
    const auto option = [&](std::string_view name) {
      if (arg != name) return false;
      if (!has_value) {
        if (i + 1 >= argc)
          throw std::invalid_argument("option " + std::string(name) + " needs a value");
        value = argv[++i];
      }
      return true;
    };
    if (option("--mode")) {
      if (value == "line")
        options.mode = Mode::line;
      else if (value == "redis")
        options.mode = Mode::redis;
      else
        throw std::invalid_argument("invalid mode '" + std::string(value) + "'");
    } else if (option("--server")) {
      options.servers.emplace_back(value);
    } else if (option("--clients")) {
      options.clients = parse_number<std::uint32_t>("client count", value, 1, 1'000'000);
    } else if (option("--senders")) {
      options.senders = parse_number<std::uint32_t>("sender count", value, 0, kMaxSenders);
    } else if (option("--rooms")) {
      options.rooms = parse_number<std::uint32_t>("room count", value, 0, 10'000);
    } else if (option("--silent-servers")) {
      options.silent_servers = parse_number<std::uint32_t>("silent server count", value, 0, 1000);
    } else if (option("--redis-info")) {
      if (value.empty()) throw std::invalid_argument("--redis-info needs HOST:PORT");
      options.redis_info = value;
    } else if (option("--messages")) {
      options.messages = parse_number<std::uint32_t>("message count", value, 0, 0xffffffffu);
    } else if (option("--size")) {
      options.size = parse_number<std::uint32_t>("size", value, kPayloadHeaderSize, 1u << 20);
    } else if (option("--window")) {
      options.window = parse_number<std::uint32_t>("window", value, 1, kMaxWindow);
    } else if (option("--duration")) {
      options.duration_s = parse_seconds("duration", value);
    } else if (option("--timeout")) {
      options.timeout_s = parse_seconds("timeout", value);
    } else if (option("--connect-batch")) {
      options.connect_batch = parse_number<std::uint32_t>("connect batch", value, 1, 100'000);
    } else if (option("--server-pid")) {
      options.server_pids.push_back(parse_number<pid_t>("pid", value, 1, 1 << 30));
    } else if (option("--idle-rss")) {
      options.idle_rss_pid = parse_number<pid_t>("pid", value, 1, 1 << 30);
    } else if (option("--channel")) {
      options.channel = value;
    } else if (flag("--tls")) {
      options.tls = true;
    } else if (option("--tls-ca")) {
      if (value.empty()) throw std::invalid_argument("--tls-ca needs a file name");
      options.tls_ca = value;
      options.tls = true;
    } else if (flag("--quiet")) {
      options.progress = false;
    } else {
      throw std::invalid_argument("unknown option '" + std::string(arg) + "'");
    }
  }
  if (options.servers.empty())
    options.servers.emplace_back(options.mode == Mode::line ? "127.0.0.1:8888" : "127.0.0.1:6379");
  if (options.idle_rss_pid == 0) {
    if (options.clients < 2) throw std::invalid_argument("--clients must be at least 2");
    if (options.mode == Mode::line && options.senders > options.clients)
      throw std::invalid_argument("--senders must not exceed --clients in line mode");
  }
  if (options.silent_servers > 0 && options.rooms == 0)
    throw std::invalid_argument("--silent-servers needs --rooms");
  if (options.rooms > 0) {
    if (options.mode != Mode::line) throw std::invalid_argument("--rooms needs --mode line");
    if (options.idle_rss_pid != 0)
      throw std::invalid_argument("--rooms and --idle-rss do not go together");
    if (std::uint64_t{options.rooms} * options.senders > kMaxSenders)
      throw std::invalid_argument("--rooms times --senders must not exceed " +
                                  std::to_string(kMaxSenders));
    if (options.silent_servers >= std::max<std::size_t>(options.servers.size(), 1))
      throw std::invalid_argument("--silent-servers must leave at least one server with senders");
    if (std::uint64_t{options.rooms} * options.clients > 1'000'000)
      throw std::invalid_argument("--rooms times --clients must not exceed 1000000");
  }
  if (options.window == 0) {
    // Keep the bytes a server may have queued for one receiver, senders * window messages,
    // near 256 KiB: far below epollchatd's default 1 MiB backlog limit and redis's pubsub
    // output limit, yet deep enough to keep both busy.
    const std::uint64_t per_message = std::uint64_t{options.size} + 32;
    const std::uint64_t fit =
        (256u << 10) / (per_message * (options.senders ? options.senders : 1));
    // And keep the deliveries in flight, senders * window * (clients - 1), near 2 million,
    // so that with 10,000 clients a run is many windows long rather than two.
    const std::uint64_t fan_out = std::uint64_t{options.senders ? options.senders : 1} *
                                  (options.clients > 1 ? options.clients - 1 : 1);
    const std::uint64_t window =
        std::min({fit, (std::uint64_t{1} << 21) / fan_out, std::uint64_t{kMaxWindow}});
    options.window = static_cast<std::uint32_t>(window < 1 ? 1 : window);
  }
  return options;
}

}  // namespace epollchat::bench
