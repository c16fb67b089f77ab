// Service: restarts that keep every client connected. A planned stop hands the sessions on
// through systemd's file descriptor store; the next process takes them back at start.
#include <cstdint>
#include <string>
#include <system_error>

#include "chat/protocol.hpp"
#include "chat/saved_state.hpp"
#include "core/counted.hpp"
#include "daemon/service.hpp"
#include "daemon/unit_job.hpp"

namespace epollchat::daemon {
namespace {

// How long a planned stop waits for output to go out before it saves what is left: the
// restart's gap for every client grows with it, and what is left is not lost anyway.
constexpr auto kHandOnFlushDeadline = std::chrono::milliseconds(100);

// The largest state those limits allow, with room for every client's names.
std::size_t max_state_bytes(const chat::SavedStateLimits& limits) {
  constexpr std::size_t kPerClientNames = 1024;
  constexpr std::size_t kHeader = 4096;
  return kHeader + limits.max_clients *
                       (limits.max_unhandled_input + limits.max_unsent_output + kPerClientNames);
}

}  // namespace

Service::Handover Service::read_saved_state(Passed& passed) {
  Handover handover;
  if (!passed.state) return handover;
  handover.present = true;
  // Out of the store at once: a process that fails from now on must not find it again.
  store_.remove(kStoredStateName);
  const chat::SavedStateLimits limits = chat::Server::restorable_limits(settings_.server_limits());
  try {
    handover.state = chat::decode_saved_state(
        read_stored_state(passed.state.get(), max_state_bytes(limits)), limits);
  } catch (const chat::SavedStateError& refusal) {
    handover.refusal = refusal.what();
  }
  passed.state.reset();
  return handover;
}

void Service::take_back_clients(Passed& passed, const Handover& handover) {
  server_.keep_sockets_with(&store_);
  if (handover.state) {
    const std::size_t restored = server_.restore_sessions(*handover.state, [&](std::uint64_t id) {
      const auto found = passed.clients.find(id);
      if (found == passed.clients.end()) return UniqueFd();
      UniqueFd socket = std::move(found->second);
      passed.clients.erase(found);
      return socket;
    });
    log_.notice("restored " + counted(restored, "client", "clients") +
                " from the previous process");
    // Kept, but not in the state: they were on their way out when it was saved.
    for (auto& [id, socket] : passed.clients) {
      store_.remove(stored_client_name(id));
      server_.turn_away(std::move(socket), "");
    }
    return;
  }
  if (passed.clients.empty()) return;
  if (handover.present) {
    log_.warning("saved state not used: " + handover.refusal + "; asking " +
                 counted(passed.clients.size(), "client", "clients") + " to reconnect");
    for (auto& [id, socket] : passed.clients) {
      store_.remove(stored_client_name(id));
      server_.turn_away(std::move(socket), protocol::restarted_reconnect_line());
    }
    return;
  }
  log_.warning("no saved state (the previous process did not stop cleanly): " +
               counted(passed.clients.size(), "client joins", "clients join") + " again");
  // Their old names go first: the new ids may be the same numbers.
  for (const auto& [id, socket] : passed.clients) store_.remove(stored_client_name(id));
  for (auto& [id, socket] : passed.clients) {
    server_.admit_again(std::move(socket), protocol::restarted_after_failure_line());
  }
}

void Service::check_store_size() const {
  // Both listeners and the state beside the clients; the unit's figure leaves more room.
  constexpr std::size_t kOwnDescriptors = 3;
  constexpr std::size_t kRecommendedMargin = 16;
  if (!store_.is_in_use() || store_.capacity() >= settings_.max_clients + kOwnDescriptors) return;
  log_.warning("the file descriptor store holds " + std::to_string(store_.capacity()) +
               " descriptors, too few for max-clients (" + std::to_string(settings_.max_clients) +
               "): set FileDescriptorStoreMax= and FDSTORE= to " +
               std::to_string(settings_.max_clients + kRecommendedMargin) +
               ", or clients beyond the store reconnect after a restart");
}

bool Service::is_restart_planned() {
  if (!store_.is_in_use()) return false;
  // Where no service manager can be asked (a harness playing one), a store in use means
  // the manager will start the daemon again with it.
  return ask_stop_purpose() != StopPurpose::stop;
}

void Service::begin_restart() {
  stopping_ = true;
  restarting_ = true;
  systemd::notify_stopping();
  server_.prepare_restart();
  shutdown_deadline_.arm(
      std::chrono::duration_cast<std::chrono::microseconds>(kHandOnFlushDeadline));
}

void Service::hand_on() {
  const chat::SavedState state = server_.save_sessions();
  try {
    store_.store_state(chat::encode_saved_state(state));
  } catch (const std::system_error& failure) {
    log_.error(std::string("cannot hand the clients on: ") + failure.what());
    return;
  }
  log_.notice("restarting: handing on " + counted(state.clients.size(), "client", "clients"));
}

}  // namespace epollchat::daemon
