// Server: restarts that keep every client connected. The sessions go out as a SavedState,
// and come back, in a fresh server, on the sockets the previous process handed on.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "chat/names.hpp"
#include "chat/protocol.hpp"
#include "chat/server.hpp"
#include "core/socket.hpp"

namespace epollchat::chat {

SavedState Server::save_sessions() {
  rooms_.flush_staged();
  SavedState state;
  state.node_id = std::string(other_nodes_->node_id());
  state.instance = std::string(other_nodes_->instance());
  state.next_id = next_id_;
  const CoarseTime now = coarse_now();
  rooms_.for_each([&](const Room& room) {
    for (const Connection* member : room.members()) {
      const Session& session = Session::of(*member);
      if (member->is_encrypted() || !member->is_open()) continue;
      SavedClient& client = state.clients.emplace_back();
      client.id = session.id();
      if (session.has_nickname()) client.nickname = session.name();
      client.room = room.name();
      client.unhandled_input = member->unhandled_input();
      // A /nick the other nodes have not answered yet is asked again by the next process,
      // before the lines that waited for it.
      if (const auto nickname = other_nodes_->nickname_in_claim(session.id())) {
        client.unhandled_input.insert(0, "/nick " + *nickname + "\n");
      }
      client.unfinished_line_age_ms = static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(member->partial_line_age(now))
              .count());
      client.skipping_long_line = member->is_skipping_long_line();
      client.unsent_output = member->unsent_output();
      client.recent_output_bytes = session.recent_output_bytes();
      client.told_to_slow_down = session.was_told_to_slow_down();
      if (const auto allowance = member->rate_allowance()) {
        client.rate_allowance_millilines = std::llround(*allowance * 1000.0);
      }
    }
  });
  return state;
}

SavedStateLimits Server::restorable_limits(const ServerLimits& limits) {
  const ConnectionLimits& connection = limits.connection;
  SavedStateLimits restorable;
  restorable.max_clients = limits.max_clients;
  // An unfinished line, the lines of one read held back while throttled or paused, and a
  // /nick asked again.
  restorable.max_unhandled_input = 2 * connection.max_line + EventLoop::kReadBufferSize;
  // A queue holds up to 1.25 x max_backlog from one turn to the next, plus a turn's worth.
  restorable.max_unsent_output =
      connection.max_backlog + connection.max_backlog / 4 + EventLoop::kReadBufferSize;
  return restorable;
}

std::size_t Server::restore_sessions(const SavedState& state,
                                     const std::function<UniqueFd(std::uint64_t)>& take_socket) {
  next_id_ = std::max(next_id_, state.next_id);
  std::vector<const SavedClient*> gone;
  std::size_t restored = 0;
  for (const SavedClient& saved : state.clients) {
    UniqueFd fd = take_socket(saved.id);
    if (!fd || sessions_.contains(saved.id)) {
      gone.push_back(&saved);
      continue;
    }
    set_nonblocking(fd.get());
    std::unique_ptr<Session> session;
    try {
      session = std::make_unique<Session>(
          *this, saved.id, protocol::client_name(other_nodes_->node_id(), saved.id), std::move(fd));
    } catch (const std::system_error& failure) {
      log_.warning("client #" + std::to_string(saved.id) + " not restored: " + failure.what());
      gone.push_back(&saved);
      continue;
    }
    Session& back = *session;
    sessions_.emplace(saved.id, std::move(session));
    if (!saved.nickname.empty() && nicknames_.take(saved.nickname, saved.id)) {
      back.set_nickname(saved.nickname);
    }
    Room& room = rooms_.open(saved.room);
    // What was on its way to the client before the restart, then where it is now.
    if (!saved.unsent_output.empty()) room.send_to(back.connection(), saved.unsent_output);
    room.add(back.connection());
    back.set_room(&room);
    flow_.entered_room(back, room);
    ++present_;
    back.reply(protocol::restarted_line(back.name(), room.name()));
    back.restore_flow(saved.recent_output_bytes, saved.told_to_slow_down);
    if (saved.rate_allowance_millilines) {
      back.connection().restore_rate_allowance(
          static_cast<double>(*saved.rate_allowance_millilines) / 1000.0);
    }
    back.connection().restore_input(saved.unhandled_input, saved.skipping_long_line,
                                    std::chrono::milliseconds(saved.unfinished_line_age_ms));
    ++restored;
  }
  // Those whose sockets did not come back left while the server restarted.
  for (const SavedClient* saved : gone) {
    if (Room* room = rooms_.find(lower_case_ascii(saved->room))) {
      const std::string name = saved->nickname.empty()
                                   ? protocol::client_name(other_nodes_->node_id(), saved->id)
                                   : saved->nickname;
      room->broadcast(protocol::left_line(name, population(*room)), nullptr);
    }
  }
  if (restored > 0) note_status_change();
  return restored;
}

void Server::prepare_restart() {
  shutting_down_ = true;
  for (auto& listener : listeners_) listener->stop();
  for (auto& listener : tls_listeners_) listener->stop();
  for (auto& [id, session] : sessions_) {
    Connection& connection = session->connection();
    if (connection.is_encrypted()) {
      session->reply(protocol::restarting_reconnect_line());
      connection.close_after_flush();
    } else {
      connection.pause_reading();
    }
  }
}

bool Server::is_ready_to_hand_on() const {
  return std::all_of(sessions_.begin(), sessions_.end(), [](const auto& entry) {
    const Session& session = *entry.second;
    const Connection& connection = session.connection();
    return !connection.is_encrypted() && session.room() != nullptr &&
           !connection.has_pending_output();
  });
}

void Server::admit_again(UniqueFd fd, std::string_view notice) {
  set_nonblocking(fd.get());
  if (!has_room_for_client()) {
    refuse(std::move(fd), std::string(notice) + protocol::server_full_line(max_clients_));
    return;
  }
  admit(std::move(fd), nullptr, notice);
}

}  // namespace epollchat::chat
