// SteadyRoom: the well-behaved members of one room, whose deliveries the stress test checks
// while the crowd misbehaves around them.
//
// Keep-up readers read everything as it arrives; steady senders send numbered lines at a
// moderate pace (about 25 a second, now and then a short burst), of lengths drawn from the
// seed, and read everything too. No member ever misbehaves, so the server owes each of them
// every line of every steady sender (but its own), once and in order, and must never cut
// one off: a reader that keeps up is never disconnected, whoever else congests the room.
// Owns: the members' connections, the texts sent and when.
// Never: waits on one member (all I/O is non-blocking, driven by poll).
// Lifetime: constructed (which joins everyone) on the test's thread, run() on a thread of
// its own; the connections close (FIN) with it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::test {

struct SteadySettings {
  std::uint16_t port = 0;
  std::size_t readers = 0;
  std::size_t senders = 0;
  std::uint64_t seed = 0;
  // Numbered lines are sent over this long.
  std::chrono::milliseconds duration{0};
  // After the duration, how long the members may take to receive the rest.
  std::chrono::milliseconds drain_limit{0};
  std::string room;
};

struct SteadyFigures {
  std::uint64_t lines_sent = 0;
  // Numbered lines received, summed over the members (each gets every other sender's).
  std::uint64_t deliveries = 0;
  std::uint64_t deliveries_due = 0;
  // From handing a line to the kernel to its arrival at a member.
  double p99_delay_ms = 0;
  double max_delay_ms = 0;
  // From the end of the sending to the last member having everything.
  double drain_ms = 0;
};

class SteadyRoom {
 public:
  // Connects the readers, then the senders, and moves each into the room, waiting for the
  // server's confirmation. Throws std::runtime_error with the reason if a step fails.
  explicit SteadyRoom(SteadySettings settings);
  ~SteadyRoom();
  SteadyRoom(const SteadyRoom&) = delete;
  SteadyRoom& operator=(const SteadyRoom&) = delete;

  // Sends and reads until the duration has passed, then has each sender send its end marker
  // ("steady end N") and reads until every member has every sender's, or the drain limit
  // passes, or `abort` is set. Returns what went wrong first, or "" if every member got
  // every line once and in order and none was cut off.
  std::string run(const std::atomic<bool>& abort);
  // After run() returned.
  [[nodiscard]] const SteadyFigures& figures() const { return figures_; }
  // Closes every connection (FIN).
  void close_all();

 private:
  struct Member;
  struct Sender;

  // Queues the lines due by `now_ms` (since the start) of every sender; returns when the
  // next one is due.
  std::int64_t send_due_lines(std::int64_t now_ms);
  void queue_line(Sender& sender, std::string text);
  void flush(Member& member);
  // Reads what the member has been sent and checks each line.
  void receive(Member& member);
  // Checks one line a member received; sets error_ on the first fault.
  void check_line(Member& member, std::string_view line);
  [[nodiscard]] std::string describe(const Member& member) const;
  [[nodiscard]] std::string missing_lines() const;

  SteadySettings settings_;
  std::vector<std::unique_ptr<Member>> members_;  // readers first, then senders
  std::vector<std::unique_ptr<Sender>> senders_;
  SteadyFigures figures_;
  std::vector<double> delays_ms_;
  std::string error_;
};

}  // namespace epollchat::test
