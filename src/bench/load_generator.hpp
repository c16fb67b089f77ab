// LoadGenerator: the benchmark itself: C client connections on one thread and one epoll.
//
// Every connection reads everything it is sent (level-triggered, one large read per
// connection per turn, up to four when the buffer fills, so no connection starves the
// rest); senders append as many messages as their window allows to one buffer and write it
// with one send() per turn. The clock starts only when every connection has been welcomed
// (line mode: the `Welcome` line, and of every two clients one has seen the other's join
// notice, see JoinBarrier; redis mode: the SUBSCRIBE confirmation, or PONG for publishers),
// so connection set-up and the join storm are not measured. With several --server
// addresses client i connects to address i mod N: line mode then measures a cluster of
// epollchatd nodes, every line still due at every other client whichever node it is on.
// With --rooms the clients form N rooms, every member of room r on address r mod N: each
// client sends /join after its welcome and counts as set up once told it is in the room;
// each room has its own senders, delivery tracker and join barrier, so the measurement is
// of rooms that each live on one node.
// Owns: the epoll fd, every connection, the scratch read buffer.
// Never: exits, or throws once the connections are up (failures become a result).
// Lifetime: one run.
#pragma once

#include <memory>

#include "bench/options.hpp"

namespace epollchat::bench {

class LoadGenerator {
 public:
  explicit LoadGenerator(Options options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Runs the benchmark, or the idle-memory measurement when options.idle_rss_pid is set.
  // Prints progress on stderr and one RESULT line on stdout. Returns the exit status: 0, or
  // 1 if anything was lost or the run could not complete. Throws std::system_error or
  // std::runtime_error if it cannot start.
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace epollchat::bench
