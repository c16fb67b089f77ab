// Whereabouts: who and where the server last said we are, read from its own lines.
//
// The client keeps no state the server does not confirm: the name comes from the welcome
// line and "*** You are now known as NAME.", the room from "*** You are now in ROOM (N
// online).", so the prompt and a reconnect's restore always match what the server did.
// The nicknames of the last "/who" answer are kept for Tab completion.
//
// Owns: copies of the name, the room and the nicknames. Never does I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace epollchat::client {

// What a server line was, as far as the client cares.
enum class ServerReply {
  other,
  welcome,           // A new session: name "Client #N", room lobby.
  nickname_settled,  // An answer to /nick: taken, refused, unchanged or done.
  room_settled,      // An answer to /join: refused, unchanged or done.
  who,               // The first line of an answer to /who.
};

class Whereabouts {
 public:
  static constexpr std::string_view kFirstRoom = "lobby";

  // Reads one line as the server sent it (without its LF).
  ServerReply note_server_line(std::string_view line);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& room() const noexcept { return room_; }
  // Whether the name is a nickname the user took, not the server's "Client #N".
  [[nodiscard]] bool has_nickname() const noexcept;
  [[nodiscard]] const std::vector<std::string>& who_nicknames() const noexcept {
    return who_nicknames_;
  }
  // "[lobby] bob> ", or "> " before the welcome; made safe to display.
  [[nodiscard]] std::string prompt() const;

 private:
  std::string name_;
  std::string room_{kFirstRoom};
  std::vector<std::string> who_nicknames_;
};

}  // namespace epollchat::client
