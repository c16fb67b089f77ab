#include "steady_room.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "adversarial/adversarial.hpp"
#include "seeded_random.hpp"
#include "support/chat_client.hpp"
#include "support/member.hpp"
#include "support/pending_output.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLinePrefix = "steady ";
constexpr std::string_view kEndPrefix = "steady end ";
// Seeds the senders' streams apart from the crowd's clients (which use 0, 1, 2, ...).
constexpr std::uint64_t kSenderStreams = 1'000'000;
// A sender pauses 20-60 ms between lines (about 25 a second), and one time in twenty sends
// a burst of 2-8 lines at once: chat, never a flood.
constexpr std::int64_t kShortestGap = 20;
constexpr std::int64_t kLongestGap = 60;
constexpr unsigned kBurstPerMille = 50;

// "steady N " and a filler of a drawn length, with a tab and a two-byte UTF-8 character
// now and then, which the server relays unchanged.
std::string numbered_text(SeededRandom& random, std::size_t number) {
  static constexpr std::string_view kFiller =
      "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\t";
  std::string text = std::string(kLinePrefix) + std::to_string(number) + " ";
  const std::int64_t length = random.between(0, 200);
  for (std::int64_t i = 0; i < length; ++i) text += kFiller[random.below(kFiller.size())];
  if (random.chance(100)) text += "\xc3\xa9";  // U+00E9
  return text;
}

}  // namespace

struct SteadyRoom::Member {
  Member(ChatClient connected, int client_id) : client(std::move(connected)), id(client_id) {}

  ChatClient client;
  int id = 0;
  std::optional<std::size_t> sender;  // its index among the senders, if it sends
  std::size_t index = 0;              // among the readers, or among the senders
  // Per sender: the number of the next line due, and whether its end marker came.
  std::vector<std::size_t> next;
  std::vector<bool> ended;
  std::size_t senders_ended = 0;
  PendingOutput unsent;
};

struct SteadyRoom::Sender {
  Sender(std::uint64_t seed, std::size_t index, Member& sending_member)
      : random(SeededRandom::stream(seed, kSenderStreams + index)), member(sending_member) {}
  SeededRandom random;
  Member& member;
  std::vector<std::string> texts;
  std::vector<SteadyClock::time_point> sent_at;
  std::int64_t next_due_ms = 0;
};

SteadyRoom::SteadyRoom(SteadySettings settings) : settings_(std::move(settings)) {
  const std::size_t total = settings_.readers + settings_.senders;
  for (std::size_t i = 0; i < total; ++i) {
    auto joined = join(settings_.port);
    const auto moved =
        join_room_after_notices(joined, settings_.room, static_cast<int>(i + 1), kReplyTimeout * 2);
    auto member = std::make_unique<Member>(std::move(joined.client), joined.id);
    const bool sends = i >= settings_.readers;
    member->index = sends ? i - settings_.readers : i;
    if (sends) member->sender = member->index;
    member->next.assign(settings_.senders, 0);
    member->ended.assign(settings_.senders, false);
    if (!moved) throw std::runtime_error(describe(*member) + " could not join: " + moved.message());
    members_.push_back(std::move(member));
    if (sends) {
      senders_.push_back(
          std::make_unique<Sender>(settings_.seed, senders_.size(), *members_.back()));
    }
  }
}

SteadyRoom::~SteadyRoom() = default;

void SteadyRoom::close_all() {
  for (auto& member : members_) member->client.close();
}

std::string SteadyRoom::describe(const Member& member) const {
  return std::string(member.sender ? "steady sender " : "keep-up reader ") +
         std::to_string(member.index) + " (" + lines::client_name(member.id) + ")";
}

std::string SteadyRoom::run(const std::atomic<bool>& abort) {
  const auto start = SteadyClock::now();
  const auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start)
        .count();
  };
  for (auto& sender : senders_) sender->next_due_ms = sender->random.between(0, kLongestGap);
  bool sending = true;
  std::int64_t sending_ended_ms = 0;
  std::vector<pollfd> fds(members_.size());
  while (error_.empty()) {
    if (abort.load()) {
      error_ = "stopped early: the daemon is gone";
      break;
    }
    const std::int64_t now = elapsed();
    int wait = 20;
    if (sending && now < settings_.duration.count()) {
      wait = static_cast<int>(std::clamp<std::int64_t>(send_due_lines(now) - now, 0, wait));
    } else if (sending) {
      sending = false;
      sending_ended_ms = now;
      for (auto& sender : senders_) {
        const std::string marker = std::string(kEndPrefix) + std::to_string(sender->texts.size());
        sender->member.unsent.append(marker + "\n");
        flush(sender->member);
      }
    }
    if (!sending) {
      const bool complete = std::all_of(members_.begin(), members_.end(), [&](const auto& member) {
        return member->senders_ended == senders_.size() - (member->sender ? 1 : 0);
      });
      if (complete) {
        figures_.drain_ms = static_cast<double>(now - sending_ended_ms);
        break;
      }
      if (now - sending_ended_ms > settings_.drain_limit.count()) {
        error_ = "not every member had every line " +
                 std::to_string(settings_.drain_limit.count() / 1000) +
                 " s after the senders stopped: " + missing_lines();
        break;
      }
    }
    for (std::size_t i = 0; i < members_.size(); ++i) {
      const Member& member = *members_[i];
      const bool has_unsent = !member.unsent.is_empty();
      fds[i] = {member.client.fd(), static_cast<short>(POLLIN | (has_unsent ? POLLOUT : 0)), 0};
    }
    if (::poll(fds.data(), fds.size(), wait) < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    for (std::size_t i = 0; i < members_.size() && error_.empty(); ++i) {
      if ((fds[i].revents & POLLOUT) != 0) flush(*members_[i]);
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) receive(*members_[i]);
    }
  }
  for (const auto& sender : senders_) figures_.lines_sent += sender->texts.size();
  for (const auto& member : members_) {
    for (std::size_t s = 0; s < senders_.size(); ++s) {
      if (member->sender != s) figures_.deliveries_due += senders_[s]->texts.size();
    }
  }
  figures_.max_delay_ms =
      delays_ms_.empty() ? 0 : *std::max_element(delays_ms_.begin(), delays_ms_.end());
  figures_.p99_delay_ms = percentile(delays_ms_, 99);
  return error_;
}

std::int64_t SteadyRoom::send_due_lines(std::int64_t now_ms) {
  std::int64_t next_due = now_ms + kLongestGap;
  for (auto& sender : senders_) {
    while (sender->next_due_ms <= now_ms) {
      const std::int64_t lines =
          sender->random.chance(kBurstPerMille) ? sender->random.between(2, 8) : 1;
      for (std::int64_t i = 0; i < lines; ++i) {
        queue_line(*sender, numbered_text(sender->random, sender->texts.size()));
      }
      sender->next_due_ms += sender->random.between(kShortestGap, kLongestGap);
    }
    next_due = std::min(next_due, sender->next_due_ms);
    flush(sender->member);
  }
  return next_due;
}

void SteadyRoom::queue_line(Sender& sender, std::string text) {
  sender.member.unsent.append(text + "\n");
  sender.texts.push_back(std::move(text));
  sender.sent_at.push_back(SteadyClock::now());
}

void SteadyRoom::flush(Member& member) {
  std::uint64_t sent = 0;
  if (member.unsent.send_to(member.client.fd(), sent) == SendOutcome::peer_gone && error_.empty()) {
    error_ = describe(member) + " could not send: the server closed the connection";
  }
}

void SteadyRoom::receive(Member& member) {
  const bool open = member.client.receive_available();
  while (auto line = member.client.take_buffered_line()) {
    check_line(member, *line);
    if (!error_.empty()) return;
  }
  if (!open && error_.empty()) {
    std::string got;
    for (std::size_t s = 0; s < senders_.size(); ++s) {
      if (member.sender == s) continue;
      got += (got.empty() ? "" : ", ") + std::to_string(member.next[s]) + " of " +
             lines::client_name(senders_[s]->member.id);
    }
    error_ = describe(member) + " was cut off: the server " +
             (member.client.was_reset() ? "reset" : "closed") +
             " the connection after it had received lines " + got;
  }
}

void SteadyRoom::check_line(Member& member, std::string_view line) {
  const auto chat = lines::parse_chat_line(line);
  if (!chat) return;  // notices
  const auto found = std::find_if(senders_.begin(), senders_.end(), [&](const auto& sender) {
    return sender->member.id == chat->sender;
  });
  if (found == senders_.end()) return;  // the crowd
  const auto s = static_cast<std::size_t>(found - senders_.begin());
  Sender& sender = **found;
  const std::string who = describe(member);
  const std::string from = lines::client_name(chat->sender);
  if (member.sender == s) {
    error_ = who + " received its own line back: \"" + escape_bytes(line) + "\"";
    return;
  }
  if (member.ended[s]) {
    error_ = who + " received \"" + escape_bytes(line) + "\" after the end marker of " + from +
             " (a duplicate)";
    return;
  }
  std::size_t& next = member.next[s];
  if (chat->text.starts_with(kEndPrefix)) {
    const auto count = parse_number(chat->text.substr(kEndPrefix.size()));
    if (!count || static_cast<std::size_t>(*count) != next) {
      error_ = who + " received the end marker \"" + escape_bytes(chat->text) + "\" of " + from +
               " after only " + std::to_string(next) + " lines (lines missing)";
      return;
    }
    member.ended[s] = true;
    ++member.senders_ended;
    return;
  }
  std::string_view rest = chat->text;
  std::optional<long> number;
  if (rest.starts_with(kLinePrefix)) {
    rest.remove_prefix(kLinePrefix.size());
    number = parse_number(rest.substr(0, rest.find(' ')));
  }
  if (!number || static_cast<std::size_t>(*number) >= sender.texts.size()) {
    error_ = who + " received a damaged or unknown line from " + from + ": \"" +
             escape_bytes(line) + "\"";
    return;
  }
  const auto got = static_cast<std::size_t>(*number);
  if (got != next) {
    error_ = who + " received line " + std::to_string(got) + " of " + from + " where line " +
             std::to_string(next) + " was due" +
             (got < next ? " (a duplicate)" : " (lines missing)");
    return;
  }
  if (chat->text != sender.texts[got]) {
    error_ = who + " received line " + std::to_string(got) + " of " + from + " damaged: \"" +
             escape_bytes(chat->text) + "\" instead of \"" + escape_bytes(sender.texts[got]) + "\"";
    return;
  }
  delays_ms_.push_back(
      std::chrono::duration<double, std::milli>(SteadyClock::now() - sender.sent_at[got]).count());
  ++next;
  ++figures_.deliveries;
}

std::string SteadyRoom::missing_lines() const {
  std::string listed;
  std::size_t incomplete = 0;
  for (const auto& member : members_) {
    for (std::size_t s = 0; s < senders_.size(); ++s) {
      if (member->sender == s || member->ended[s]) continue;
      if (++incomplete > 5) continue;
      listed += (listed.empty() ? "" : "; ") + describe(*member) + " has " +
                std::to_string(member->next[s]) + " of " +
                std::to_string(senders_[s]->texts.size()) + " lines of " +
                lines::client_name(senders_[s]->member.id) + " and not its end marker";
    }
  }
  if (incomplete > 5) listed += "; and " + std::to_string(incomplete - 5) + " more";
  return listed;
}

}  // namespace epollchat::test
