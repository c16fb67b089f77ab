// NicknameRegistry: which of this node's sessions holds which nickname.
//
// Owns: one entry per nickname held here, by its lower-case form, naming the holder's
// session id. Only named sessions have an entry, so an idle client costs nothing here.
// Never: checks that a nickname is valid (the command parser did), or knows of other nodes
// (the server asks them separately).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace epollchat::chat {

class NicknameRegistry {
 public:
  // The id of the session holding `nickname` in any case, or 0 (ids start at 1).
  [[nodiscard]] std::uint64_t holder(std::string_view nickname) const;
  // Whether a session other than `id` holds `nickname`.
  [[nodiscard]] bool is_held_by_other(std::string_view nickname, std::uint64_t id) const;
  // Records `id` as the holder of `nickname`; false, and nothing changes, if another session
  // holds it. Taking a name one already holds (in another case) keeps the entry.
  bool take(std::string_view nickname, std::uint64_t id);
  // Frees `nickname` if `id` holds it.
  void release(std::string_view nickname, std::uint64_t id);

  [[nodiscard]] std::size_t size() const noexcept { return holders_.size(); }
  // Calls `each(lower_case_name, id)` for every entry.
  template <typename Each>
  void for_each(Each&& each) const {
    for (const auto& [name, id] : holders_) each(std::string_view(name), id);
  }

 private:
  std::unordered_map<std::string, std::uint64_t> holders_;
};

}  // namespace epollchat::chat
