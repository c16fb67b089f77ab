// Names: the rules for nicknames, room names and node ids, and how they compare (ASCII,
// without case).
//
// Owns: nothing; pure functions over the text they are given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epollchat::chat {

// Why a nickname is refused.
enum class NicknameProblem : std::uint8_t {
  none,
  malformed,  // not 1 to kMaxNicknameLength letters, digits, '_' or '-'
  reserved,   // starts with "Client" in any case: it could pass for another client's id
};
inline constexpr std::size_t kMaxNicknameLength = 24;

[[nodiscard]] NicknameProblem check_nickname(std::string_view name) noexcept;

// ASCII lower case: the registry key of a nickname, the name of a room.
[[nodiscard]] std::string lower_case_ascii(std::string_view text);

// ASCII case-insensitive equality (nicknames and command words are ASCII).
[[nodiscard]] bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept;

// Room names: 1 to kMaxRoomNameLength letters, digits, '_' or '-', compared without case.
inline constexpr std::size_t kMaxRoomNameLength = 32;
inline constexpr std::string_view kLobby = "lobby";
[[nodiscard]] bool is_valid_room_name(std::string_view name) noexcept;

// Node ids (the `b7` of `Client #b7:12` when nodes are linked): 1 to kMaxNodeIdLength
// lower-case letters or digits.
inline constexpr std::size_t kMaxNodeIdLength = 8;
[[nodiscard]] bool is_valid_node_id(std::string_view id) noexcept;

// A `#<id>` or `#<node>:<id>` target ("#17", "#b7:17"): `node` is empty in the first form.
struct ClientTarget {
  std::string_view node;
  std::uint64_t number = 0;
};
// nullopt if `target` is not exactly one of those forms (decimal digits only, no sign, no
// overflow, a valid node id).
[[nodiscard]] std::optional<ClientTarget> parse_client_target(std::string_view target) noexcept;

}  // namespace epollchat::chat
