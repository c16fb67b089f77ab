// SavedState: a state survives its own encoding byte for byte, and the reader refuses, with
// a reason, whatever it cannot trust: another format version, damage anywhere, and a valid
// digest over contents that break the rules (a bad name, a duplicate id or nickname, an id
// at or past next_id, more clients or longer fields than this daemon's limits).
#include "chat/saved_state.hpp"

#include <gtest/gtest.h>

#include <string>

namespace epollchat::chat {
namespace {

constexpr SavedStateLimits kLimits{
    .max_clients = 8, .max_unhandled_input = 64, .max_unsent_output = 256};

SavedState two_clients() {
  SavedState state;
  state.node_id = "b7";
  state.instance = "0123456789abcdef";
  state.next_id = 43;
  SavedClient alice;
  alice.id = 12;
  alice.nickname = "alice";
  alice.room = "lobby";
  alice.unhandled_input = "a whole line\nhalf a li";
  alice.unfinished_line_age_ms = 1500;
  alice.unsent_output = std::string("Client #42 says >> hi\n\0binary\xff", 31);
  alice.recent_output_bytes = 70000;
  alice.told_to_slow_down = true;
  alice.rate_allowance_millilines = -1500;
  SavedClient anonymous;
  anonymous.id = 42;
  anonymous.room = "Kitchen";
  anonymous.skipping_long_line = true;
  state.clients = {alice, anonymous};
  return state;
}

// Why decoding `bytes` is refused, or "(accepted)".
std::string refusal(const std::string& bytes, const SavedStateLimits& limits = kLimits) {
  try {
    (void)decode_saved_state(bytes, limits);
  } catch (const SavedStateError& error) {
    return error.what();
  }
  return "(accepted)";
}

// A state that breaks the rules, encoded with a valid digest: the rules are what refuse it.
std::string sealed(const SavedState& state) { return encode_saved_state(state); }

TEST(SavedState, RoundTripsEveryField) {
  const SavedState state = two_clients();
  EXPECT_EQ(decode_saved_state(encode_saved_state(state), kLimits), state);
}

TEST(SavedState, RoundTripsAnEmptyServer) {
  const SavedState empty;
  EXPECT_EQ(decode_saved_state(encode_saved_state(empty), kLimits), empty);
}

TEST(SavedState, RefusesWhatIsNotAState) {
  EXPECT_EQ(refusal(""), "not a state written by epollchatd");
  EXPECT_EQ(refusal("hello, this is a config file\n"), "not a state written by epollchatd");
}

TEST(SavedState, RefusesAnotherFormatVersionByNumber) {
  std::string bytes = encode_saved_state(two_clients());
  bytes[8] = 2;  // the version follows the 8-byte magic
  EXPECT_EQ(refusal(bytes), "written by format version 2; this daemon reads version 1");
}

TEST(SavedState, RefusesDamageAnywhere) {
  const std::string good = encode_saved_state(two_clients());
  for (std::size_t i = 16; i < good.size(); ++i) {  // every byte after the header
    std::string bytes = good;
    bytes[i] = static_cast<char>(bytes[i] ^ 0x20);
    EXPECT_EQ(refusal(bytes), "damaged: the digest does not match") << "byte " << i;
  }
  EXPECT_NE(refusal(good.substr(0, good.size() - 1)).find("damaged"), std::string::npos);
  EXPECT_NE(refusal(good + "x").find("damaged"), std::string::npos);
}

TEST(SavedState, RefusesIdsThatCannotBe) {
  SavedState state = two_clients();
  state.clients[1].id = state.next_id;
  EXPECT_EQ(refusal(sealed(state)), "client 43: the id is not below the next id (43)");
  state = two_clients();
  state.clients[1].id = 0;
  EXPECT_EQ(refusal(sealed(state)), "client 0: the id is not below the next id (43)");
  state = two_clients();
  state.clients[1].id = state.clients[0].id;
  EXPECT_EQ(refusal(sealed(state)), "client 12 appears twice");
}

TEST(SavedState, RefusesNamesANewClientCouldNotHave) {
  SavedState state = two_clients();
  state.clients[1].nickname = "Client42";
  EXPECT_EQ(refusal(sealed(state)), "client 42: not a valid nickname");
  state = two_clients();
  state.clients[1].nickname = "ALICE";
  EXPECT_EQ(refusal(sealed(state)), "client 42: the nickname ALICE is taken by another client");
  state = two_clients();
  state.clients[1].room = "no spaces";
  EXPECT_EQ(refusal(sealed(state)), "client 42: not a valid room name");
  state = two_clients();
  state.node_id = "UPPER";
  EXPECT_EQ(refusal(sealed(state)), "not a valid node id");
  state = two_clients();
  state.instance = "0123456789ABCDEF";
  EXPECT_EQ(refusal(sealed(state)), "not a valid instance token");
}

TEST(SavedState, RefusesMoreThanThisDaemonsLimitsRatherThanTrimming) {
  SavedState state = two_clients();
  state.clients[0].unhandled_input = std::string(kLimits.max_unhandled_input + 1, 'x');
  EXPECT_EQ(refusal(sealed(state)), "unhandled input is 65 bytes; at most 64 are allowed");
  state = two_clients();
  state.clients[0].unsent_output = std::string(kLimits.max_unsent_output + 1, 'x');
  EXPECT_EQ(refusal(sealed(state)), "unsent output is 257 bytes; at most 256 are allowed");
  EXPECT_EQ(refusal(sealed(two_clients()),
                    {.max_clients = 1, .max_unhandled_input = 64, .max_unsent_output = 256}),
            "2 clients; this daemon takes at most 1");
}

TEST(SavedState, ACountTheBytesCannotHoldIsDamageNotAnAllocation) {
  // A body that claims 2^32-1 clients in a few bytes: refused before anything is reserved.
  std::string body;
  body.push_back('\0');                  // no node id
  body.append("\x2a\0\0\0\0\0\0\0", 8);  // next id 42
  body.append("\xff\xff\xff\xff", 4);    // client count
  EXPECT_THROW(
      (void)decode_saved_state_body(
          body, {.max_clients = 0xffffffff, .max_unhandled_input = 64, .max_unsent_output = 256}),
      SavedStateError);
}

}  // namespace
}  // namespace epollchat::chat
