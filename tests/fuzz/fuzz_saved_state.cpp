// libFuzzer target: the restart state's reader against arbitrary bodies, as a damaged file
// or one written by another version could hand them over (the digest is checked before the
// body is parsed, so the fuzzer is given the body parser directly).
// Checks its promises, not just that it survives: what it accepts keeps the limits and the
// rules, and encodes to a state that decodes to the same thing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/names.hpp"
#include "chat/saved_state.hpp"

namespace {

using epollchat::chat::SavedState;
using epollchat::chat::SavedStateError;
using epollchat::chat::SavedStateLimits;

constexpr SavedStateLimits kLimits{
    .max_clients = 64, .max_unhandled_input = 128, .max_unsent_output = 1024};

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  SavedState state;
  try {
    state = epollchat::chat::decode_saved_state_body(body, kLimits);
  } catch (const SavedStateError&) {
    return 0;
  }
  require(state.clients.size() <= kLimits.max_clients);
  for (const auto& client : state.clients) {
    require(client.id > 0 && client.id < state.next_id);
    require(epollchat::chat::is_valid_room_name(client.room));
    require(client.unhandled_input.size() <= kLimits.max_unhandled_input);
    require(client.unsent_output.size() <= kLimits.max_unsent_output);
  }
  const std::string encoded = epollchat::chat::encode_saved_state(state);
  require(epollchat::chat::decode_saved_state(encoded, kLimits) == state);
  return 0;
}
