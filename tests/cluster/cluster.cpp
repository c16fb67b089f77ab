#include "cluster/cluster.hpp"

#include <csignal>
#include <stdexcept>

#include "support/deadline.hpp"

namespace epollchat::test {

Cluster::Cluster(ClusterOptions options) : redis_(options.redis) {
  for (std::size_t index = 0; index < options.nodes; ++index) {
    DaemonOptions node_options;
    node_options.extra_args = {"--redis", redis_.address(), "--node-id", node_id(index)};
    node_options.extra_args.insert(node_options.extra_args.end(), options.node_args.begin(),
                                   options.node_args.end());
    if (index < options.args_by_node.size()) {
      const auto& own = options.args_by_node[index];
      node_options.extra_args.insert(node_options.extra_args.end(), own.begin(), own.end());
    }
    nodes_.push_back(std::make_unique<DaemonProcess>(node_options));
  }
  if (options.wait_for_link) {
    if (const auto linked = wait_for_link_up(); !linked) {
      throw std::runtime_error(linked.message());
    }
  }
}

::testing::AssertionResult Cluster::wait_for_status(std::size_t index, std::string_view fragment,
                                                    std::size_t mark,
                                                    std::chrono::milliseconds timeout) {
  return test::wait_for_status(node(index), fragment, mark, timeout);
}

::testing::AssertionResult wait_for_status(DaemonProcess& daemon, std::string_view fragment,
                                           std::size_t mark, std::chrono::milliseconds timeout) {
  NotifySocket& notify = daemon.notify();
  const auto matches = [&](const NotifyMessage& message) {
    const auto status = message.field("STATUS");
    return status && status->find(fragment) != std::string::npos;
  };
  const auto& history = notify.history();
  for (std::size_t i = mark; i < history.size(); ++i) {
    if (matches(history[i])) return ::testing::AssertionSuccess();
  }
  if (notify.wait_for(matches, timeout)) return ::testing::AssertionSuccess();
  std::string last = "(none)";
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (const auto status = it->field("STATUS")) {
      last = *status;
      break;
    }
  }
  return ::testing::AssertionFailure()
         << "epollchatd (pid " << daemon.pid() << ") sent no STATUS= containing '" << fragment
         << "' within " << timeout.count() << " ms; its last STATUS=" << last;
}

::testing::AssertionResult Cluster::wait_for_link_up(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (std::size_t index = 0; index < size(); ++index) {
    auto linked = wait_for_status(index, link_up_status(size()), 0, deadline.remaining());
    if (!linked) return linked;
  }
  return ::testing::AssertionSuccess();
}

void Cluster::kill_node(std::size_t index) {
  node(index).send_signal(SIGKILL);
  if (!node(index).wait_exit(std::chrono::seconds(10))) {
    throw std::runtime_error("node " + node_id(index) + " survived SIGKILL for 10 s");
  }
}

}  // namespace epollchat::test
