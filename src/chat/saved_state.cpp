#include "chat/saved_state.hpp"

#include <openssl/evp.h>

#include <array>
#include <limits>
#include <unordered_set>

#include "chat/names.hpp"
#include "chat/node_message.hpp"

namespace epollchat::chat {
namespace {

constexpr std::string_view kMagic = "EPCHSTAT";
constexpr std::size_t kDigestSize = 32;
constexpr std::size_t kHeaderSize = kMagic.size() + 4 + 4;

enum ClientFlags : std::uint8_t {
  kToldToSlowDown = 1U << 0U,
  kSkippingLongLine = 1U << 1U,
  kRateKnown = 1U << 2U,
};
constexpr std::uint8_t kKnownFlags = kToldToSlowDown | kSkippingLongLine | kRateKnown;

using Digest = std::array<unsigned char, kDigestSize>;

Digest sha256(std::string_view bytes) {
  Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != kDigestSize) {
    throw SavedStateError("SHA-256 is not available");
  }
  return digest;
}

class Writer {
 public:
  template <typename Unsigned>
  void number(Unsigned value) {
    // Widened first: a narrow type would be promoted to (signed) int by the shift.
    const std::uint64_t wide = value;
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
      out_.push_back(static_cast<char>((wide >> (8 * i)) & 0xFFU));
    }
  }
  template <typename Length>
  void text(std::string_view value) {
    if (value.size() > std::numeric_limits<Length>::max()) {
      throw SavedStateError("a field is too long for the format");
    }
    number(static_cast<Length>(value.size()));
    out_.append(value);
  }
  void bytes(std::string_view value) { out_.append(value); }
  [[nodiscard]] std::string& result() noexcept { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) noexcept : in_(in) {}

  template <typename Unsigned>
  Unsigned number(std::string_view what) {
    const std::string_view raw = take(sizeof(Unsigned), what);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
      value |= std::uint64_t{static_cast<unsigned char>(raw[i])} << (8 * i);
    }
    return static_cast<Unsigned>(value);
  }
  // A length-prefixed field of at most `limit` bytes, checked before it is copied.
  template <typename Length>
  std::string text(std::string_view what, std::size_t limit) {
    const std::size_t length = number<Length>(what);
    if (length > limit) {
      throw SavedStateError(std::string(what) + " is " + std::to_string(length) +
                            " bytes; at most " + std::to_string(limit) + " are allowed");
    }
    return std::string(take(length, what));
  }
  std::string_view take(std::size_t length, std::string_view what) {
    if (length > in_.size() - offset_) {
      throw SavedStateError("cut short in " + std::string(what) + " at byte " +
                            std::to_string(offset_));
    }
    const std::string_view part = in_.substr(offset_, length);
    offset_ += length;
    return part;
  }
  [[nodiscard]] std::size_t left() const noexcept { return in_.size() - offset_; }

 private:
  std::string_view in_;
  std::size_t offset_ = 0;
};

// The smallest encoding of one client: every fixed field and empty texts.
constexpr std::size_t kSmallestClient = 8 + 1 + 1 + 1 + 8 + 4 + 8 + 4 + 4;

SavedClient read_client(Reader& in, const SavedState& state, const SavedStateLimits& limits) {
  SavedClient client;
  client.id = in.number<std::uint64_t>("a client id");
  const std::string where = "client " + std::to_string(client.id);
  if (client.id == 0 || client.id >= state.next_id) {
    throw SavedStateError(where + ": the id is not below the next id (" +
                          std::to_string(state.next_id) + ")");
  }
  const auto flags = in.number<std::uint8_t>("flags");
  if ((flags & ~kKnownFlags) != 0) throw SavedStateError(where + ": unknown flags");
  client.told_to_slow_down = (flags & kToldToSlowDown) != 0;
  client.skipping_long_line = (flags & kSkippingLongLine) != 0;
  client.nickname = in.text<std::uint8_t>("a nickname", kMaxNicknameLength);
  if (!client.nickname.empty() && check_nickname(client.nickname) != NicknameProblem::none) {
    throw SavedStateError(where + ": not a valid nickname");
  }
  client.room = in.text<std::uint8_t>("a room name", kMaxRoomNameLength);
  if (!is_valid_room_name(client.room)) throw SavedStateError(where + ": not a valid room name");
  client.recent_output_bytes = in.number<std::uint64_t>("the recent output");
  client.unfinished_line_age_ms = in.number<std::uint32_t>("the line's age");
  const auto rate = static_cast<std::int64_t>(in.number<std::uint64_t>("the rate allowance"));
  if ((flags & kRateKnown) != 0) {
    client.rate_allowance_millilines = rate;
  } else if (rate != 0) {
    throw SavedStateError(where + ": a rate allowance without its flag");
  }
  client.unhandled_input = in.text<std::uint32_t>("unhandled input", limits.max_unhandled_input);
  client.unsent_output = in.text<std::uint32_t>("unsent output", limits.max_unsent_output);
  return client;
}

}  // namespace

std::string encode_saved_state(const SavedState& state) {
  Writer body;
  body.text<std::uint8_t>(state.node_id);
  body.text<std::uint8_t>(state.instance);
  body.number(state.next_id);
  if (state.clients.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw SavedStateError("too many clients for the format");
  }
  body.number(static_cast<std::uint32_t>(state.clients.size()));
  for (const SavedClient& client : state.clients) {
    body.number(client.id);
    body.number(static_cast<std::uint8_t>((client.told_to_slow_down ? kToldToSlowDown : 0) |
                                          (client.skipping_long_line ? kSkippingLongLine : 0) |
                                          (client.rate_allowance_millilines ? kRateKnown : 0)));
    body.text<std::uint8_t>(client.nickname);
    body.text<std::uint8_t>(client.room);
    body.number(client.recent_output_bytes);
    body.number(client.unfinished_line_age_ms);
    body.number(static_cast<std::uint64_t>(client.rate_allowance_millilines.value_or(0)));
    body.text<std::uint32_t>(client.unhandled_input);
    body.text<std::uint32_t>(client.unsent_output);
  }
  const std::string& content = body.result();
  if (content.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw SavedStateError("the state is too large for the format");
  }
  Writer whole;
  whole.bytes(kMagic);
  whole.number(kSavedStateVersion);
  whole.number(static_cast<std::uint32_t>(content.size()));
  whole.bytes(content);
  const Digest digest = sha256(content);
  whole.bytes(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return std::move(whole.result());
}

SavedState decode_saved_state(std::string_view bytes, const SavedStateLimits& limits) {
  Reader in(bytes);
  if (bytes.size() < kHeaderSize || in.take(kMagic.size(), "the header") != kMagic) {
    throw SavedStateError("not a state written by epollchatd");
  }
  const auto version = in.number<std::uint32_t>("the header");
  if (version != kSavedStateVersion) {
    throw SavedStateError("written by format version " + std::to_string(version) +
                          "; this daemon reads version " + std::to_string(kSavedStateVersion));
  }
  const auto length = in.number<std::uint32_t>("the header");
  if (in.left() != std::size_t{length} + kDigestSize) {
    throw SavedStateError("damaged: " + std::to_string(in.left()) + " bytes follow the header, " +
                          std::to_string(std::size_t{length} + kDigestSize) + " expected");
  }
  const std::string_view body = in.take(length, "the body");
  const std::string_view digest = in.take(kDigestSize, "the digest");
  const Digest expected = sha256(body);
  if (digest != std::string_view(reinterpret_cast<const char*>(expected.data()), kDigestSize)) {
    throw SavedStateError("damaged: the digest does not match");
  }
  return decode_saved_state_body(body, limits);
}

SavedState decode_saved_state_body(std::string_view body, const SavedStateLimits& limits) {
  Reader in(body);
  SavedState state;
  state.node_id = in.text<std::uint8_t>("the node id", kMaxNodeIdLength);
  if (!state.node_id.empty() && !is_valid_node_id(state.node_id)) {
    throw SavedStateError("not a valid node id");
  }
  state.instance = in.text<std::uint8_t>("the instance", kInstanceTokenLength);
  if (!state.instance.empty() && !is_instance_token(state.instance)) {
    throw SavedStateError("not a valid instance token");
  }
  state.next_id = in.number<std::uint64_t>("the next id");
  const std::size_t count = in.number<std::uint32_t>("the client count");
  if (count > limits.max_clients) {
    throw SavedStateError(std::to_string(count) + " clients; this daemon takes at most " +
                          std::to_string(limits.max_clients));
  }
  // Before reserving: a count that the bytes left cannot hold is damage, not a reason to
  // allocate.
  if (count > in.left() / kSmallestClient) {
    throw SavedStateError(std::to_string(count) + " clients cannot fit in " +
                          std::to_string(in.left()) + " bytes");
  }
  state.clients.reserve(count);
  std::unordered_set<std::uint64_t> ids;
  std::unordered_set<std::string> nicknames;  // in lower case: they compare without case
  ids.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    SavedClient client = read_client(in, state, limits);
    if (!ids.insert(client.id).second) {
      throw SavedStateError("client " + std::to_string(client.id) + " appears twice");
    }
    if (!client.nickname.empty() && !nicknames.insert(lower_case_ascii(client.nickname)).second) {
      throw SavedStateError("client " + std::to_string(client.id) + ": the nickname " +
                            client.nickname + " is taken by another client");
    }
    state.clients.push_back(std::move(client));
  }
  if (in.left() != 0) {
    throw SavedStateError(std::to_string(in.left()) + " bytes left over after the last client");
  }
  return state;
}

}  // namespace epollchat::chat
