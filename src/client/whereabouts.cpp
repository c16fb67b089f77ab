#include "client/whereabouts.hpp"

#include "client/terminal_text.hpp"

namespace epollchat::client {
namespace {

constexpr std::string_view kWelcome = "Welcome to the chat room! Your chat ID is: ";
constexpr std::string_view kClientPrefix = "Client #";

// The text between `head` and `tail` when `line` is exactly head + text + tail.
bool take_between(std::string_view line, std::string_view head, std::string_view tail,
                  std::string_view& text) {
  if (!line.starts_with(head) || !line.ends_with(tail) || line.size() < head.size() + tail.size()) {
    return false;
  }
  text = line.substr(head.size(), line.size() - head.size() - tail.size());
  return !text.empty();
}

// "N online: a, b, c" -> the items that are nicknames (a "Client #N" cannot be typed as one).
std::vector<std::string> nicknames_in(std::string_view list) {
  std::vector<std::string> names;
  while (!list.empty()) {
    const std::size_t comma = list.find(", ");
    const std::string_view item = list.substr(0, comma);
    if (!item.empty() && !item.starts_with(kClientPrefix)) names.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 2);
  }
  return names;
}

}  // namespace

ServerReply Whereabouts::note_server_line(std::string_view line) {
  std::string_view text;
  if (line.starts_with(kWelcome)) {
    name_ = std::string(line.substr(kWelcome.size()));
    room_ = std::string(kFirstRoom);
    return ServerReply::welcome;
  }
  if (take_between(line, "*** You are now known as ", ".", text) ||
      take_between(line, "*** You are already known as ", ".", text)) {
    name_ = std::string(text);
    return ServerReply::nickname_settled;
  }
  if (take_between(line, "*** Nickname ", " is taken.", text) ||
      line.starts_with("*** Invalid nickname: ")) {
    return ServerReply::nickname_settled;
  }
  if (take_between(line, "*** You are now in ", " online).", text)) {
    const std::size_t open = text.rfind(" (");
    if (open != std::string_view::npos && open > 0) room_ = std::string(text.substr(0, open));
    return ServerReply::room_settled;
  }
  if (take_between(line, "*** You are already in ", ".", text)) {
    room_ = std::string(text);
    return ServerReply::room_settled;
  }
  if (line.starts_with("*** Invalid room name")) return ServerReply::room_settled;
  if (line.starts_with("*** ")) {
    const std::string_view body = line.substr(4);
    const std::size_t colon = body.find(" online: ");
    if (colon != std::string_view::npos && colon > 0 &&
        body.substr(0, colon).find_first_not_of("0123456789") == std::string_view::npos) {
      who_nicknames_ = nicknames_in(body.substr(colon + 9));
      return ServerReply::who;
    }
  }
  return ServerReply::other;
}

bool Whereabouts::has_nickname() const noexcept {
  return !name_.empty() && !name_.starts_with(kClientPrefix);
}

std::string Whereabouts::prompt() const {
  if (name_.empty()) return "> ";
  std::string prompt = "[";
  append_displayable(prompt, room_);
  prompt += "] ";
  append_displayable(prompt, name_);
  prompt += "> ";
  return prompt;
}

}  // namespace epollchat::client
