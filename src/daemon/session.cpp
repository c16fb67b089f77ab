#include "daemon/session.hpp"

#include "core/command.hpp"
#include "core/protocol.hpp"
#include "daemon/server.hpp"

namespace epollchat::daemon {

Session::Session(Server& server, std::uint64_t id, UniqueFd fd)
    : server_(server),
      id_(id),
      name_(protocol::client_name(id)),
      connection_(server.loop(), std::move(fd), *this, server.connection_limits()) {}

void Session::on_line(Connection& /*connection*/, std::string_view line) {
  // Lines are never empty (LineCodec drops them); this byte is the hot path's only cost.
  if (line.front() == '/') {
    run_command(line);
    return;
  }
  say(line);
}

void Session::say(std::string_view text) {
  Room& room = server_.room();
  if (room.size() <= 1) {
    reply(protocol::alone_line());
    return;
  }
  room.stage_chat_line(connection_, name_, text);
  server_.count_relayed();
}

void Session::reply(std::string_view line) { server_.room().send_to(connection_, line); }

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
      reply(server_.who_lines());
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
  const std::string old_name = name_;
  if (!server_.claim_nickname(*this, nickname)) {
    reply(protocol::nickname_taken_line(nickname));
    return;
  }
  Room& room = server_.room();
  room.broadcast(protocol::renamed_line(old_name, name_), &connection_);
  reply(protocol::renamed_you_line(name_));
}

void Session::whisper(std::string_view target, std::string_view text) {
  if (target.empty() || text.empty()) {
    reply(protocol::usage_line("/msg TARGET TEXT (TARGET: a nickname or #id)"));
    return;
  }
  Session* recipient = server_.find_member(target);
  if (recipient == nullptr) {
    reply(protocol::no_such_user_line(target));
    return;
  }
  server_.room().send_to(recipient->connection_, protocol::whisper_line(name_, text));
  reply(protocol::whisper_sent_line(recipient->name_));
  server_.count_relayed();
}

void Session::act(std::string_view action) {
  if (action.empty()) {
    reply(protocol::usage_line("/me ACTION"));
    return;
  }
  Room& room = server_.room();
  if (room.size() <= 1) {
    reply(protocol::alone_line());
    return;
  }
  room.broadcast(protocol::action_line(name_, action), &connection_);
  server_.count_relayed();
}

void Session::on_line_too_long(Connection& /*connection*/) {
  server_.room().send_to(connection_,
                         protocol::line_too_long_line(server_.connection_limits().max_line));
}

void Session::on_input_batch_end(Connection& /*connection*/) {
  server_.room().flush_staged();
  server_.pace_sender(*this);
}

void Session::on_output_congestion(Connection& /*connection*/, bool congested) {
  server_.note_congestion(*this, congested);
}

void Session::on_throttled(Connection& /*connection*/) {
  if (!told_to_slow_down_) {
    told_to_slow_down_ = true;
    server_.room().send_to(connection_,
                           protocol::slow_down_line(server_.connection_limits().max_rate));
  }
  server_.throttle(*this);
}

void Session::on_peer_finished(Connection& /*connection*/) { server_.leave(*this); }

void Session::on_closed(Connection& /*connection*/, CloseReason reason) {
  server_.retire(*this, reason);
}

}  // namespace epollchat::daemon
