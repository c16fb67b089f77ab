// Payload: the body every benchmark message carries, and how to read it back.
//
// A payload is plain ASCII so it survives epollchatd's `Client #N says >> ` prefix and its
// control-character sanitising (no byte below 0x20 ever appears), and RESP bulk strings
// unchanged. Fixed-width hex fields sit at fixed offsets, so writing one is a template copy
// plus two patches, and reading one needs no search:
//
//   S<sender:4 hex>Q<seq:8 hex>T<send time:16 hex, CLOCK_MONOTONIC ns>xxxx... (padded to B)
//
// Owns nothing; pure functions over caller-supplied bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace epollchat::bench {

// Bytes taken by the three fields; the smallest payload the benchmark can send.
inline constexpr std::size_t kPayloadHeaderSize = 31;
inline constexpr std::uint32_t kMaxSenders = 0xffff;

struct PayloadFields {
  std::uint32_t sender = 0;
  std::uint32_t seq = 0;
  std::uint64_t sent_ns = 0;
};

// A payload of `size` bytes for `sender` with sequence and time fields zeroed; patch it with
// stamp_payload() before each send.
std::string make_payload_template(std::uint32_t sender, std::size_t size);

// Writes `seq` and `sent_ns` into a payload that starts at `payload`.
void stamp_payload(char* payload, std::uint32_t seq, std::uint64_t sent_ns) noexcept;

// Reads the fields of a payload of `size` bytes; false if it is not one of ours.
bool parse_payload(const char* payload, std::size_t size, PayloadFields& out) noexcept;

}  // namespace epollchat::bench
