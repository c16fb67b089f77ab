// ChaosCrowd: a few hundred simulated clients that misbehave at random, on one thread, around
// the members of the steady room and in rooms of their own.
//
// Each client follows a plan drawn from its own SeededRandom stream: at planned times it
// chats, floods, stops reading for a while (and resumes, or never does), runs commands
// (/who /rooms /help /msg /me, now and then hundreds at once), moves between rooms, changes its
// nickname, disconnects with FIN or RST, half-closes, or reconnects. The plan depends on the seed
// alone: what a client decides never depends on what the server did or when (a client the server
// closed simply reconnects, with fixed settings that draw nothing, before its next planned action),
// so a run is replayed from its seed; only the kernel's timing differs between runs. Owns: every
// client's socket (a ChatClient) and its unsent output. Never: blocks on one client (all I/O is
// non-blocking, driven by poll), or asserts anything about what the server sends it: the crowd is
// the noise the checks run in. Lifetime: constructed and destroyed on the test's thread, run() on a
// thread of its own; its sockets close (FIN) with it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::test {

enum class ChaosAction : std::uint8_t {
  connect,       // a planned (re)connection after a disconnect, reset or half-close
  chat,          // one to three lines, now and then one over max-line
  flood,         // 64-384 KiB of lines at once
  stop_reading,  // for 0.5-8 s, or for good on this connection
  who,
  rooms,
  help,
  msg,
  me,
  command_flood,  // 50-400 of /who, /rooms and /help at once
  join,
  part,
  nick,        // from a small shared pool (so names collide), sometimes invalid
  disconnect,  // FIN
  reset,       // RST
  half_close,  // shutdown(SHUT_WR), reading on until the server closes
  reconnect,   // FIN and a new connection at once
};
inline constexpr std::size_t kChaosActionKinds = 17;
std::string_view action_name(ChaosAction action);

struct ChaosSettings {
  std::uint16_t port = 0;
  std::size_t clients = 0;
  std::uint64_t seed = 0;
  // Actions are planned over this long; afterwards the clients only read (those that do).
  std::chrono::milliseconds duration{0};
  // The rooms /join picks from; the first (the steady room) is picked most often.
  std::vector<std::string> rooms;
};

// What the crowd did, for the summary.
struct ChaosTally {
  std::array<std::uint64_t, kChaosActionKinds> actions{};
  std::uint64_t connections = 0;
  std::uint64_t connect_failures = 0;
  // Connections the server ended that the client had not half-closed (cut off, or
  // closed for a line timeout).
  std::uint64_t closed_by_server = 0;
  // Half-closed connections the server flushed and closed, as it should.
  std::uint64_t closed_after_half_close = 0;
  // Connections made before an action because the server had closed the previous one.
  std::uint64_t reconnects_after_server_close = 0;
  std::uint64_t resumed_reading = 0;
  // Output not queued because the server had not taken the client's earlier output.
  std::uint64_t sends_skipped = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t lines_received = 0;
  // The longest an action ran after its planned time (a busy test thread, a slow connect).
  double max_lag_ms = 0;
  // A hash of every decision in order: equal for equal seeds and durations.
  std::uint64_t decision_digest = 0;
};

class ChaosCrowd {
 public:
  explicit ChaosCrowd(ChaosSettings settings);
  ~ChaosCrowd();
  ChaosCrowd(const ChaosCrowd&) = delete;
  ChaosCrowd& operator=(const ChaosCrowd&) = delete;

  // Carries out the plan until settings.duration has passed, then keeps every client that
  // reads reading until `stop` is set. Throws std::system_error on an unexpected socket error.
  void run(const std::atomic<bool>& stop);
  // After run() returned.
  [[nodiscard]] const ChaosTally& tally() const { return tally_; }
  // Closes every connection (FIN).
  void close_all();

 private:
  struct Client;

  // Decides the client's next action, and reconnects it first if the server closed it.
  ChaosAction decide(Client& client, std::int64_t planned_at, std::int64_t now);
  // Returns the delay until the client's next action.
  std::int64_t carry_out(Client& client, ChaosAction action, std::int64_t now);
  void connect(Client& client, std::optional<int> receive_buffer);
  void queue_output(Client& client, std::string_view bytes);
  void flush_output(Client& client);
  void read_input(Client& client);
  void lose_connection(Client& client);
  // One poll over every open connection, waiting at most `timeout_ms`.
  void exchange_data(std::int64_t now, int timeout_ms);
  [[nodiscard]] std::string pick_room(Client& client) const;
  [[nodiscard]] std::int64_t elapsed_ms() const;

  ChaosSettings settings_;
  std::vector<std::unique_ptr<Client>> clients_;
  ChaosTally tally_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace epollchat::test
