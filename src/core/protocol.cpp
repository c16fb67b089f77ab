#include "core/protocol.hpp"

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

}  // namespace

std::string client_name(std::uint64_t id) { return "Client #" + std::to_string(id); }

bool is_control_character(unsigned char c) noexcept { return (c < 0x20 && c != '\t') || c == 0x7f; }

char* write_sanitized(char* out, std::string_view text) noexcept {
  // A plain byte loop: the compiler vectorises it, and it is the only per-byte work a
  // relayed line costs besides the copy into the shared chunk.
  for (const char c : text) {
    *out++ = is_control_character(static_cast<unsigned char>(c)) ? '?' : c;
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

std::string welcome_line(std::uint64_t id) {
  return "Welcome to the chat room! Your chat ID is: " + client_name(id) + "\n";
}

std::string joined_line(std::string_view name, std::size_t online) {
  return notice(std::string(name) + " joined (" + std::to_string(online) + " online)");
}

std::string left_line(std::string_view name, std::size_t online) {
  return notice(std::string(name) + " left (" + std::to_string(online) + " online)");
}

std::string alone_line() { return notice("You are alone in the chat room."); }

std::string line_too_long_line(std::size_t max_line) {
  return notice("Line too long (max " + std::to_string(max_line) + " bytes); dropped.");
}

std::string server_full_line(std::size_t max_clients) {
  return notice("Server full (" + std::to_string(max_clients) + " clients); try again later.");
}

std::string shutting_down_line() { return notice("Server shutting down."); }

std::string slow_down_line(std::size_t max_rate) {
  return notice("Slow down: over " + std::to_string(max_rate) +
                " lines per second; your lines are delayed, none is lost.");
}

std::string line_timeout_line(std::size_t seconds) {
  return notice("Line timeout: an incomplete line waited over " + std::to_string(seconds) +
                " s; disconnecting.");
}

}  // namespace epollchat::protocol
