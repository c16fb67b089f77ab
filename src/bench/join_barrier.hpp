// JoinBarrier: knows when line mode's join storm is over, on one server or on several nodes.
//
// Every client that connects is announced to the clients already in the room, so before the
// clock starts every client must have seen the join notices it is going to get: otherwise
// the C^2/2 notices would be measured as chat. On one server, chat ids grow and a client
// sees the joins of everyone after it in order; across nodes linked through Redis neither
// holds (each node numbers its own clients, `Client #b7:12`, and notices from different
// nodes interleave). What does hold on both: for any two clients, the one that joined
// later is announced to the one already there, so at least one of the pair sees the
// other's join notice. The barrier counts the pairs so covered and is done when all
// C(C-1)/2 are.
//
// Names are matched as the server writes them (`Client #12`, `Client #b7:12`); a notice
// can be read before the welcome that tells whose name it is, so such notices wait for it.
// Names the barrier never learns (someone else's clients) are ignored.
// Owns: the name map, one bit per pair, the notices waiting for a welcome. Never sees a
// socket. Lifetime: one benchmark run; about C^2/16 bytes (6 MiB for 10,000 clients).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace epollchat::bench {

class JoinBarrier {
 public:
  explicit JoinBarrier(std::uint32_t clients);

  // `client` was welcomed as `name`.
  void note_welcome(std::uint32_t client, std::string_view name);

  // `receiver` was told that `name` joined.
  void note_join(std::uint32_t receiver, std::string_view name);

  [[nodiscard]] bool is_settled() const noexcept { return covered_ == pairs_; }
  [[nodiscard]] std::uint64_t missing_pairs() const noexcept { return pairs_ - covered_; }

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using NameMap = std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>>;

  void cover(std::uint32_t a, std::uint32_t b) noexcept;

  std::uint32_t clients_;
  std::uint64_t pairs_;
  std::uint64_t covered_ = 0;
  std::vector<std::uint64_t> bits_;  // bit b(b-1)/2 + a for the pair a < b
  NameMap clients_by_name_;
  std::unordered_map<std::string, std::vector<std::uint32_t>, NameHash, std::equal_to<>>
      waiting_;  // name -> receivers told of it before its welcome was read
};

}  // namespace epollchat::bench
