// "Redis refused a command" is logged at most once a minute. A node whose Redis user may
// not touch the nickname keys has every nickname claim refused; a client that asks for 40
// nicknames in a row must not make the node write 40 warnings (a client could fill the
// journal that way), only one or two.
#include <gtest/gtest.h>

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "cluster/cluster_member.hpp"
#include "support/output_capture.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

constexpr std::string_view kRefusal = "Redis refused a command";
constexpr int kAttempts = 40;
// Once a minute, and the test takes seconds: the first refusal, and one more at the most.
constexpr std::size_t kMaxRefusalLines = 2;

TEST(RefusalLog, RefusedCommandsAreLoggedAtMostOnceAMinute) {
  constexpr std::string_view kPassword = "nodes only";
  TempDir secrets;
  const std::string password_file =
      secrets.write("password", std::string(kPassword) + "\n").string();
  // The node's user may take its node key and use the channel, but no nickname key.
  const std::vector<std::string> user = {"--user",
                                         "epollchat",
                                         "on",
                                         ">" + std::string(kPassword),
                                         "resetkeys",
                                         "~epollchat:node:*",
                                         "resetchannels",
                                         "&epollchat:*",
                                         "+@all",
                                         "-@admin",
                                         "-@dangerous"};
  Cluster cluster(
      {.redis = {.extra_args = user},
       .nodes = 1,
       .node_args = {"--redis-user", "epollchat", "--redis-password-file", password_file}});
  Member member = join(cluster.port(0));

  std::string requests;
  for (int i = 1; i <= kAttempts; ++i) requests += "/nick name" + std::to_string(i) + "\n";
  member.client.send(requests);
  // A /nick holds the member's next lines until Redis has answered it: the /rooms reply
  // comes after every claim was answered.
  const std::string rooms = query_rooms(member, Deadline(kCrossNodeTimeout));
  ASSERT_FALSE(rooms.empty()) << "no /rooms reply after " << kAttempts << " /nick";
  DaemonProcess& node = cluster.node(0);
  ASSERT_TRUE(node.wait_for_stderr(kRefusal, kCrossNodeTimeout)) << node.stderr_text();
  // Its notice follows every line logged before it.
  node.send_signal(SIGHUP);
  ASSERT_TRUE(node.wait_for_stderr("configuration reloaded", kCrossNodeTimeout));

  const std::size_t lines = count_of(node.stderr_text(), kRefusal);
  std::cout << kAttempts << " refused nickname claims wrote " << lines << " '" << kRefusal
            << "' lines\n";
  EXPECT_LE(lines, kMaxRefusalLines);
}

}  // namespace
}  // namespace epollchat::test
