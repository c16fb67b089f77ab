// libFuzzer target: the command parser against arbitrary lines.
// Checks its promises, not just that it survives: every view lies inside the line, a line
// not starting with '/' is chat unchanged, `//x` is chat `/x`, arguments carry no edge
// blanks, and an accepted nickname is 1-24 name characters not starting with "Client".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/command.hpp"
#include "chat/names.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

bool is_inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool has_edge_blank(std::string_view text) {
  if (text.empty()) return false;
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  return blank(text.front()) || blank(text.back());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const epollchat::chat::Command command = epollchat::chat::parse_command(line);
  require(is_inside(command.argument, line) && is_inside(command.text, line));
  if (line.empty() || line.front() != '/') {
    require(command.kind == epollchat::chat::CommandKind::chat && command.text == line);
  } else if (line.size() >= 2 && line[1] == '/') {
    require(command.kind == epollchat::chat::CommandKind::chat && command.text == line.substr(1));
  } else {
    require(command.kind != epollchat::chat::CommandKind::chat);
    if (command.kind != epollchat::chat::CommandKind::unknown) {
      require(!has_edge_blank(command.argument) && !has_edge_blank(command.text));
    }
  }

  if (epollchat::chat::check_nickname(line) == epollchat::chat::NicknameProblem::none) {
    require(!line.empty() && line.size() <= epollchat::chat::kMaxNicknameLength);
    for (const char c : line) {
      require((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-');
    }
    require(!epollchat::chat::equals_ignoring_case(line.substr(0, 6), "client"));
  }
  if (const auto target = epollchat::chat::parse_client_target(line)) {
    require(line.size() >= 2 && line.front() == '#');
    require(target->node.empty() || epollchat::chat::is_valid_node_id(target->node));
  }
  if (epollchat::chat::is_valid_room_name(line)) {
    require(!line.empty() && line.size() <= epollchat::chat::kMaxRoomNameLength);
    require(epollchat::chat::check_nickname(line) != epollchat::chat::NicknameProblem::malformed ||
            line.size() > epollchat::chat::kMaxNicknameLength);
  }
  return 0;
}
