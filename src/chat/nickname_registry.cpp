#include "chat/nickname_registry.hpp"

#include "chat/names.hpp"

namespace epollchat::chat {

std::uint64_t NicknameRegistry::holder(std::string_view nickname) const {
  const auto found = holders_.find(lower_case_ascii(nickname));
  return found == holders_.end() ? 0 : found->second;
}

bool NicknameRegistry::is_held_by_other(std::string_view nickname, std::uint64_t id) const {
  const std::uint64_t held_by = holder(nickname);
  return held_by != 0 && held_by != id;
}

bool NicknameRegistry::take(std::string_view nickname, std::uint64_t id) {
  const auto [entry, added] = holders_.try_emplace(lower_case_ascii(nickname), id);
  return added || entry->second == id;
}

void NicknameRegistry::release(std::string_view nickname, std::uint64_t id) {
  const auto found = holders_.find(lower_case_ascii(nickname));
  if (found != holders_.end() && found->second == id) holders_.erase(found);
}

}  // namespace epollchat::chat
