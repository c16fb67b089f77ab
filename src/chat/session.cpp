#include "chat/session.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "chat/command.hpp"
#include "chat/names.hpp"
#include "chat/protocol.hpp"
#include "chat/server.hpp"
#include "core/clock.hpp"

namespace epollchat::chat {

Session::Session(Server& server, std::uint64_t id, std::string name, UniqueFd fd,
                 std::unique_ptr<TlsStream> tls)
    : server_(server),
      id_(id),
      name_(std::move(name)),
      connection_(server.loop(), std::move(fd), *this, server.connection_limits(), std::move(tls)) {
}

namespace {

// A command that lists a whole room or every room costs this many lines of the connection's
// per-turn budget: a flood of them cannot make one turn long.
constexpr std::size_t kListingCommandCost = 16;

}  // namespace

void Session::before_reading(Connection& /*connection*/) { server_.flow().before_reading(*this); }

void Session::on_line(Connection& /*connection*/, std::string_view line) {
  // Lines are never empty (LineCodec drops them); this byte is the hot path's only cost.
  if (line.front() == '/') {
    run_command(line);
    return;
  }
  say(line);
}

bool Session::has_audience() {
  if (room_ == nullptr) return false;  // left: only finishing its output
  // The room's own size is the hot path's check; other nodes are asked about only when it
  // looks empty.
  if (room_->size() <= 1 && server_.is_alone(*room_)) {
    reply(protocol::alone_line());
    return false;
  }
  return true;
}

bool Session::is_heard() {
  const bool audience = has_audience();
  // With the link up the line goes to the other nodes whatever this node believes about who
  // listens there: its view of them is never complete (a client that just joined elsewhere).
  return audience || (room_ != nullptr && server_.other_nodes().are_reachable());
}

void Session::say(std::string_view text) {
  if (!is_heard()) return;
  if (room_->size() > 1) {
    count_sent(room_->stage_chat_line(connection_, name_, text));
  } else {
    room_->record_chat_line(name_, text);  // heard on other nodes only
  }
  server_.other_nodes().said(*this, text);
  server_.count_relayed();
}

void Session::count_sent(std::size_t bytes) noexcept {
  batch_sent_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(
      std::uint64_t{batch_sent_} + bytes, std::numeric_limits<std::uint32_t>::max()));
}

void Session::reply(std::string_view line) {
  // Through the session's room, so the reply keeps its place among the chat it receives.
  (room_ != nullptr ? *room_ : server_.rooms().lobby()).send_to(connection_, line);
}

void Session::run_command(std::string_view line) {
  const Command command = parse_command(line);
  switch (command.kind) {
    case CommandKind::chat:
      say(command.text);
      return;
    case CommandKind::nick:
      change_nickname(command.argument);
      return;
    case CommandKind::who:
      connection_.charge_lines(kListingCommandCost - 1);
      reply(server_.who_lines(*this));
      return;
    case CommandKind::msg:
      whisper(command.argument, command.text);
      return;
    case CommandKind::me:
      act(command.text);
      return;
    case CommandKind::help:
      reply(protocol::help_lines());
      return;
    case CommandKind::quit:
      server_.quit(*this, command.text);
      return;
    case CommandKind::join:
      join(command.argument);
      return;
    case CommandKind::part:
      join(kLobby);
      return;
    case CommandKind::rooms:
      connection_.charge_lines(kListingCommandCost - 1);
      reply(server_.rooms_lines());
      return;
    case CommandKind::unknown:
      reply(protocol::unknown_command_line(command.argument));
      return;
  }
}

void Session::change_nickname(std::string_view nickname) {
  if (nickname.empty()) {
    reply(protocol::usage_line("/nick NAME"));
    return;
  }
  switch (check_nickname(nickname)) {
    case NicknameProblem::none:
      break;
    case NicknameProblem::malformed:
      reply(protocol::invalid_nickname_line("use 1-24 letters, digits, _ or -"));
      return;
    case NicknameProblem::reserved:
      reply(protocol::invalid_nickname_line("names starting with Client are reserved"));
      return;
  }
  if (has_nickname_ && nickname == name_) {
    reply(protocol::nickname_unchanged_line(name_));
    return;
  }
  server_.change_nickname(*this, nickname);
}

void Session::whisper(std::string_view target, std::string_view text) {
  if (target.empty() || text.empty()) {
    reply(protocol::usage_line("/msg TARGET TEXT (TARGET: a nickname or #id)"));
    return;
  }
  server_.whisper(*this, target, text);
}

void Session::act(std::string_view action) {
  if (action.empty()) {
    reply(protocol::usage_line("/me ACTION"));
    return;
  }
  if (!is_heard()) return;
  const std::string line = protocol::action_line(name_, action);
  room_->broadcast_action(line, &connection_);
  count_sent(line.size());
  server_.other_nodes().acted(*this, action);
  server_.count_relayed();
}

void Session::join(std::string_view room) {
  if (room.empty()) {
    reply(protocol::usage_line("/join ROOM"));
    return;
  }
  if (!is_valid_room_name(room)) {
    reply(protocol::invalid_room_line());
    return;
  }
  if (room_ == nullptr) return;
  if (equals_ignoring_case(room, room_->name())) {
    reply(protocol::already_in_room_line(room_->name()));
    return;
  }
  server_.move(*this, room);
}

void Session::on_line_too_long(Connection& /*connection*/) {
  reply(protocol::line_too_long_line(server_.connection_limits().max_line));
}

void Session::on_input_batch_end(Connection& /*connection*/) {
  if (room_ != nullptr) room_->flush_staged();
  server_.other_nodes().end_of_batch();
  if (batch_sent_ != 0) {
    sent_.add(std::exchange(batch_sent_, 0), coarse_now());
  }
  server_.flow().after_batch(*this);
}

void Session::on_output_congestion(Connection& /*connection*/, bool congested) {
  server_.flow().set_congested(*this, congested);
}

void Session::on_throttled(Connection& /*connection*/) {
  if (!told_to_slow_down_) {
    told_to_slow_down_ = true;
    reply(protocol::slow_down_line(server_.connection_limits().max_rate));
  }
  server_.flow().throttle(*this);
}

void Session::on_peer_finished(Connection& /*connection*/) { server_.peer_finished(*this); }

void Session::on_closed(Connection& /*connection*/, CloseReason reason) {
  server_.retire(*this, reason);
}

}  // namespace epollchat::chat
