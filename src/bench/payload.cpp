#include "bench/payload.hpp"

#include <cstring>

namespace epollchat::bench {
namespace {

constexpr std::size_t kSenderOffset = 1;
constexpr std::size_t kSeqOffset = 6;
constexpr std::size_t kTimeOffset = 15;

constexpr char kHexDigits[] = "0123456789abcdef";

template <std::size_t Digits>
void write_hex(char* out, std::uint64_t value) noexcept {
  for (std::size_t i = 0; i < Digits; ++i) {
    out[Digits - 1 - i] = kHexDigits[value & 0xf];
    value >>= 4;
  }
}

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Decodes 8 lower-case hex digits with a few 64-bit operations instead of 8 table look-ups
// (parsing was the benchmark's largest cost). Returns false if any byte is not a digit.
bool read_hex8(const char* in, std::uint64_t& value) noexcept {
  std::uint64_t x = 0;
  std::memcpy(&x, in, sizeof x);  // little-endian: in[0], the most significant digit, is byte 0
  // Per byte, the high bit of (x + 0x80 - k) says byte >= k; bytes below 0x80 cannot carry.
  const auto at_least = [x](std::uint64_t k) { return x + (0x80 - k) * kOnes; };
  const std::uint64_t digit = at_least('0') & ~at_least('9' + 1);
  const std::uint64_t letter = at_least('a') & ~at_least('f' + 1);
  if ((x & kHighBits) != 0 || ((digit | letter) & kHighBits) != kHighBits) return false;
  // Nibble per byte: the low four bits, plus 9 for letters ('a' is 0x61).
  std::uint64_t n = (x & 0x0f0f0f0f0f0f0f0fULL) + ((x >> 6) & kOnes) * 9;
  // Pack: byte pairs, then 16-bit pairs, then 32-bit pairs, most significant first.
  n = ((n << 4) | (n >> 8)) & 0x00ff00ff00ff00ffULL;
  n = ((n << 8) | (n >> 16)) & 0x0000ffff0000ffffULL;
  n = ((n << 16) | (n >> 32)) & 0x00000000ffffffffULL;
  value = n;
  return true;
}

}  // namespace

std::string make_payload_template(std::uint32_t sender, std::size_t size) {
  std::string payload(size < kPayloadHeaderSize ? kPayloadHeaderSize : size, 'x');
  payload[0] = 'S';
  write_hex<4>(payload.data() + kSenderOffset, sender);
  payload[kSeqOffset - 1] = 'Q';
  payload[kTimeOffset - 1] = 'T';
  stamp_payload(payload.data(), 0, 0);
  return payload;
}

void stamp_payload(char* payload, std::uint32_t seq, std::uint64_t sent_ns) noexcept {
  write_hex<8>(payload + kSeqOffset, seq);
  write_hex<16>(payload + kTimeOffset, sent_ns);
}

bool parse_payload(const char* payload, std::size_t size, PayloadFields& out) noexcept {
  if (size < kPayloadHeaderSize || payload[0] != 'S' || payload[kSeqOffset - 1] != 'Q' ||
      payload[kTimeOffset - 1] != 'T')
    return false;
  // The sender field has 4 digits: decode it padded with leading zeros to 8.
  std::uint64_t sender = 0;
  std::uint64_t seq = 0;
  std::uint64_t time_high = 0;
  std::uint64_t time_low = 0;
  const char* const field = payload + kSenderOffset;
  const char sender_digits[8] = {'0', '0', '0', '0', field[0], field[1], field[2], field[3]};
  if (!read_hex8(sender_digits, sender) || !read_hex8(payload + kSeqOffset, seq) ||
      !read_hex8(payload + kTimeOffset, time_high) ||
      !read_hex8(payload + kTimeOffset + 8, time_low))
    return false;
  out.sender = static_cast<std::uint32_t>(sender);
  out.seq = static_cast<std::uint32_t>(seq);
  out.sent_ns = (time_high << 32) | time_low;
  return true;
}

}  // namespace epollchat::bench
