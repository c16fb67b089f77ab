// Cluster: one private redis-server and N epollchatd nodes linked through it, for one test.
//
// Owns: the RedisServer and the nodes (DaemonProcess each: `--port 0 --redis ADDR --node-id
// nK`, port learned from READY=1). Node K (1-based) has the id "nK"; node(i) is 0-based.
// By default the constructor returns once every node reports `link up (N nodes)` in its
// STATUS=, so a test's first cross-node line cannot fall into a link still connecting
// (delivery across nodes is at-most-once while the link is not up).
// Never: sleeps: waits are on the nodes' notify sockets and redis's own readiness.
// Lifetime: nodes are stopped (SIGTERM) before redis, by member order, when the object goes.
#pragma once

#include <gtest/gtest.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_server.hpp"
#include "support/daemon_process.hpp"

namespace epollchat::test {

inline constexpr std::chrono::milliseconds kLinkTimeout{std::chrono::seconds(15)};

struct ClusterOptions {
  RedisOptions redis{};
  std::size_t nodes = 3;
  // Appended to every node's command line.
  std::vector<std::string> node_args{};
  // Appended to one node's command line after node_args: element i for node i (0-based).
  std::vector<std::vector<std::string>> args_by_node{};
  // Wait in the constructor until every node's STATUS= says `link up (N nodes)`.
  bool wait_for_link = true;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {});
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  [[nodiscard]] RedisServer& redis() { return redis_; }
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }
  [[nodiscard]] DaemonProcess& node(std::size_t index) { return *nodes_.at(index); }
  [[nodiscard]] std::uint16_t port(std::size_t index) { return node(index).port(); }
  // "n1", "n2", ... for index 0, 1, ...
  [[nodiscard]] static std::string node_id(std::size_t index) {
    return "n" + std::to_string(index + 1);
  }

  // How many notify datagrams node `index` has delivered so far: a mark for wait_for_status,
  // so a STATUS= sent before an event in the test cannot satisfy a wait for what follows it.
  [[nodiscard]] std::size_t status_mark(std::size_t index) {
    return node(index).notify().history().size();
  }
  // Waits until a STATUS= of node `index`, received at or after `mark`, contains `fragment`
  // (e.g. "; link up (3 nodes)").
  ::testing::AssertionResult wait_for_status(std::size_t index, std::string_view fragment,
                                             std::size_t mark,
                                             std::chrono::milliseconds timeout = kLinkTimeout);
  // wait_for_status(i, link_up_status(size()), 0) for every node.
  ::testing::AssertionResult wait_for_link_up(std::chrono::milliseconds timeout = kLinkTimeout);

  // Stops node `index` with SIGKILL and reaps it: no goodbye reaches Redis.
  void kill_node(std::size_t index);

 private:
  RedisServer redis_;
  std::vector<std::unique_ptr<DaemonProcess>> nodes_;
};

// Waits until a STATUS= of `daemon` (any node, in a Cluster or not), received at or after
// notify datagram number `mark`, contains `fragment`.
::testing::AssertionResult wait_for_status(DaemonProcess& daemon, std::string_view fragment,
                                           std::size_t mark = 0,
                                           std::chrono::milliseconds timeout = kLinkTimeout);

// The STATUS= fragment of a node whose link is up with `nodes` nodes known.
inline std::string link_up_status(std::size_t nodes) {
  return "; link up (" + std::to_string(nodes) + (nodes == 1 ? " node)" : " nodes)");
}
inline constexpr std::string_view kLinkDownStatus = "; link down, retrying";

}  // namespace epollchat::test
