#include "chat/protocol.hpp"

#include <cstring>

namespace epollchat::protocol {
namespace {

constexpr std::string_view kSays = " says >> ";

std::string notice(std::string_view body) {
  std::string line;
  line.reserve(kNoticePrefix.size() + body.size() + 1);
  line.append(kNoticePrefix).append(body).push_back('\n');
  return line;
}

// Sanitized copy of peer-supplied text for a notice.
std::string sanitized(std::string_view text) {
  std::string out(text.size(), '\0');
  write_sanitized(out.data(), text);
  return out;
}

}  // namespace

std::string client_name(std::string_view node, std::uint64_t id) {
  std::string name = "Client #";
  if (!node.empty()) name.append(node).push_back(':');
  return name + std::to_string(id);
}

char* write_sanitized(char* out, std::string_view text) noexcept {
  // A plain byte loop: the compiler vectorises it, and it is the only per-byte work a
  // relayed line costs besides the copy into the shared chunk.
  char* const start = out;
  for (const char c : text) {
    *out++ = is_control_character(static_cast<unsigned char>(c)) ? '?' : c;
  }
  // C1 controls are rare: memchr finds their lead byte fast, or finds none.
  constexpr unsigned char kC1Lead = 0xc2;
  constexpr unsigned char kC1First = 0x80;
  constexpr unsigned char kC1Last = 0x9f;
  char* lead = start;
  while ((lead = static_cast<char*>(
              std::memchr(lead, kC1Lead, static_cast<std::size_t>(out - lead)))) != nullptr) {
    if (lead + 1 == out) break;
    const auto next = static_cast<unsigned char>(lead[1]);
    if (next >= kC1First && next <= kC1Last) {
      lead[0] = '?';
      lead[1] = '?';
      lead += 2;
    } else {
      lead += 1;
    }
  }
  return out;
}

std::size_t chat_line_size(std::string_view sender, std::string_view text) noexcept {
  return sender.size() + kSays.size() + text.size() + 1;
}

char* write_chat_line(char* out, std::string_view sender, std::string_view text) noexcept {
  std::memcpy(out, sender.data(), sender.size());
  out += sender.size();
  std::memcpy(out, kSays.data(), kSays.size());
  out += kSays.size();
  out = write_sanitized(out, text);
  *out++ = '\n';
  return out;
}

std::string welcome_line(std::string_view client_name) {
  return "Welcome to the chat room! Your chat ID is: " + std::string(client_name) + "\n";
}

std::string joined_line(std::string_view name, std::size_t online) {
  return notice(std::string(name) + " joined (" + std::to_string(online) + " online)");
}

std::string left_line(std::string_view name, std::size_t online, std::string_view reason) {
  std::string body = std::string(name) + " left (" + std::to_string(online) + " online)";
  if (!reason.empty()) body += ": " + sanitized(reason);
  return notice(body);
}

std::string alone_line() { return notice("You are alone in the chat room."); }

std::string line_too_long_line(std::size_t max_line) {
  return notice("Line too long (max " + std::to_string(max_line) + " bytes); dropped.");
}

std::string server_full_line(std::size_t max_clients) {
  return notice("Server full (" + std::to_string(max_clients) + " clients); try again later.");
}

std::string_view cut_to_length(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // A continuation byte (10xxxxxx) at the cut belongs to a character that began before it.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

std::string not_allowed_line(std::string_view address) {
  return notice("Connections from " + std::string(address) + " are not allowed here.");
}

std::string server_busy_line() { return notice("Server busy; try again later."); }

std::string shutting_down_line() { return notice("Server shutting down."); }

std::string restarted_line(std::string_view name, std::string_view room) {
  return notice("Server restarted; you are still " + std::string(name) + " in " +
                std::string(room) + ".");
}

std::string restarted_reconnect_line() { return notice("Server restarted; please reconnect."); }

std::string restarting_reconnect_line() { return notice("Server restarting; please reconnect."); }

std::string restarted_after_failure_line() {
  return notice("Server restarted after a failure; you join again as a new client.");
}

std::string slow_down_line(std::size_t max_rate) {
  return notice("Slow down: over " + std::to_string(max_rate) +
                " lines per second; your lines are delayed, none is lost.");
}

std::string line_timeout_line(std::size_t seconds) {
  return notice("Line timeout: an incomplete line waited over " + std::to_string(seconds) +
                " s; disconnecting.");
}

std::string renamed_line(std::string_view old_name, std::string_view new_name) {
  return notice(std::string(old_name) + " is now known as " + std::string(new_name));
}

std::string renamed_you_line(std::string_view new_name) {
  return notice("You are now known as " + std::string(new_name) + ".");
}

std::string nickname_unchanged_line(std::string_view name) {
  return notice("You are already known as " + std::string(name) + ".");
}

std::string nickname_taken_line(std::string_view name) {
  return notice("Nickname " + std::string(name) + " is taken.");
}

std::string invalid_nickname_line(std::string_view reason) {
  return notice("Invalid nickname: " + std::string(reason));
}

std::string whisper_line(std::string_view sender, std::string_view text) {
  return std::string(sender) + " whispers >> " + sanitized(text) + "\n";
}

std::string whisper_sent_line(std::string_view recipient) {
  return notice("Sent to " + std::string(recipient) + ".");
}

std::string whisper_not_sent_line(std::string_view recipient) {
  return notice("Not sent to " + std::string(recipient) +
                ": the link to other servers is busy; try again.");
}

std::string no_such_user_line(std::string_view target) {
  return notice("No such user " + sanitized(target) + ".");
}

std::string action_line(std::string_view name, std::string_view action) {
  return "* " + std::string(name) + " " + sanitized(action) + "\n";
}

std::string usage_line(std::string_view usage) { return notice("Usage: " + std::string(usage)); }

std::string unknown_command_line(std::string_view command) {
  return notice("Unknown command /" + sanitized(command) + "; try /help.");
}

std::string help_lines() {
  return "*** Commands:\n"
         "***   /nick NAME        take a nickname: 1-24 letters, digits, _ or -\n"
         "***   /who              list who is in your room, in order of joining\n"
         "***   /msg TARGET TEXT  whisper TEXT to a nickname or #id only\n"
         "***   /me ACTION        tell the others: * NAME ACTION\n"
         "***   /join ROOM        move to ROOM (1-32 letters, digits, _ or -)\n"
         "***   /part             go back to the lobby\n"
         "***   /rooms            list the rooms and how many are in each\n"
         "***   /quit [REASON]    leave; the others see the reason\n"
         "***   /help             this list\n"
         "***   //TEXT            send a chat line that starts with /\n";
}

namespace {

// "*** HEAD a, b, c" continued on further "*** " lines past kWhoLineBody bytes; an item is
// never split.
std::string listed_lines(std::string body, const std::vector<std::string_view>& items) {
  std::string out;
  bool first_on_line = true;
  for (const std::string_view item : items) {
    if (!first_on_line && body.size() + 2 + item.size() > kWhoLineBody) {
      out += notice(body);
      body.clear();
      first_on_line = true;
    }
    if (!first_on_line) body += ", ";
    body += item;
    first_on_line = false;
  }
  out += notice(body);
  return out;
}

}  // namespace

std::string who_lines(const std::vector<std::string_view>& names) {
  return listed_lines(std::to_string(names.size()) + " online: ", names);
}

std::string rooms_lines(const std::vector<std::pair<std::string_view, std::size_t>>& rooms) {
  std::vector<std::string> entries;
  entries.reserve(rooms.size());
  for (const auto& [name, count] : rooms) {
    entries.push_back(std::string(name) + " (" + std::to_string(count) + ")");
  }
  return listed_lines("Rooms: ", {entries.begin(), entries.end()});
}

std::string joined_room_line(std::string_view room, std::size_t online) {
  return notice("You are now in " + std::string(room) + " (" + std::to_string(online) +
                " online).");
}

std::string already_in_room_line(std::string_view room) {
  return notice("You are already in " + std::string(room) + ".");
}

std::string invalid_room_line() {
  return notice("Invalid room name: use 1-32 letters, digits, _ or -");
}

std::string link_lost_line() { return notice("Link to other servers lost; chatting locally."); }

std::string link_restored_line() { return notice("Link restored."); }

std::string history_of_this_server_only_line() {
  return notice("History of this server only: the link to other servers is down.");
}

}  // namespace epollchat::protocol
