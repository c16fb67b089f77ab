// SavedState: what one process of the daemon hands the next across a planned restart (the
// sessions: ids, names, rooms, and what was in flight), and the one format both read.
//
// Owns: plain values. Never: descriptors. Client sockets travel beside the state, in the
// service manager's file descriptor store, each named after its client's id.
//
// The reader treats the bytes as untrusted: another version of the daemon may have written
// them, or they may be damaged. A SHA-256 digest over the body tells damage from a valid
// state; then every length is checked against what is left and against the reader's
// limits before anything is allocated, every name against the rules a new name must meet,
// and every id for being unique and below next_id. Any failure refuses the whole state
// with one reason, and the caller asks the clients to reconnect instead.
//
// Layout (integers little-endian): "EPCHSTAT", u32 version, u32 body length, body,
// SHA-256(body). Body: u8-length node id, u8-length instance, u64 next id, u32 client
// count, then per client: u64 id, u8 flags, u8-length nickname ("" without one), u8-length
// room, u64 recent output bytes, u32 age of the unfinished line in ms, i64 rate allowance in
// thousandths of a line (0 unless flag bit 2 says it is known), u32-length unhandled input,
// u32-length unsent output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::chat {

inline constexpr std::uint32_t kSavedStateVersion = 1;

struct SavedClient {
  std::uint64_t id = 0;
  std::string nickname;  // "" for a client known as "Client #<id>"
  std::string room;
  // Input read but not yet handled, in order: an unfinished line, and lines held back while
  // the client was throttled or paused; and how long the unfinished line has waited for
  // its end.
  std::string unhandled_input;
  std::uint32_t unfinished_line_age_ms = 0;
  // The rest of an oversize line (already reported) is being skipped.
  bool skipping_long_line = false;
  // Bytes queued for the client and not yet sent, in order.
  std::string unsent_output;
  // The client's flow-control state: what it made the server queue lately, and whether it
  // was told to slow down.
  std::uint64_t recent_output_bytes = 0;
  bool told_to_slow_down = false;
  // Its line-rate allowance, in thousandths of a line, if it had read anything yet (else
  // it starts with a full second's burst, as a new client does).
  std::optional<std::int64_t> rate_allowance_millilines;

  bool operator==(const SavedClient&) const = default;
};

struct SavedState {
  std::string node_id;  // "" without the link between nodes
  // The process's token on the link ("" without it): the next process carries on with it,
  // so the other nodes see no departure and the node's claims stay its own.
  std::string instance;
  std::uint64_t next_id = 1;
  std::vector<SavedClient> clients;

  bool operator==(const SavedState&) const = default;
};

// What the reader accepts: a state from a daemon with other limits is refused, not
// trimmed, so that nothing is silently lost.
struct SavedStateLimits {
  std::size_t max_clients = 0;
  std::size_t max_unhandled_input = 0;  // per client
  std::size_t max_unsent_output = 0;    // per client
};

class SavedStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[nodiscard]] std::string encode_saved_state(const SavedState& state);

// Throws SavedStateError, whose what() says why in a few words ("written by format
// version 2; this daemon reads version 1", "damaged: the digest does not match").
[[nodiscard]] SavedState decode_saved_state(std::string_view bytes, const SavedStateLimits& limits);

// The body alone, without the header and digest: what decode_saved_state() parses once the
// digest matched. Separate so that a fuzzer reaches it without forging SHA-256.
[[nodiscard]] SavedState decode_saved_state_body(std::string_view body,
                                                 const SavedStateLimits& limits);

}  // namespace epollchat::chat
