// Redis that requires a password (requirepass): nodes given it, by --redis-password-file or
// as the systemd credential `redis-password`, link up and chat crosses; a node with a wrong
// password or none stays off the link, says why in its log, and serves its clients locally.
// Nodes logging in as an ACL user of their own (--redis-user), confined by the rule that
// docs/SECURITY.md gives, work the same.
#include <gtest/gtest.h>

#include "cluster/link_faults.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

constexpr std::string_view kPassword = "correct horse battery staple";

class RedisAuth : public ::testing::Test {
 protected:
  // A node outside the cluster's own, on the same Redis, with `args` after --redis.
  std::unique_ptr<DaemonProcess> start_node(std::vector<std::string> args,
                                            std::map<std::string, std::string> env = {}) {
    DaemonOptions options = DaemonOptions::with_args({"--redis", cluster_.redis().address()});
    options.extra_args.insert(options.extra_args.end(), args.begin(), args.end());
    options.env = std::move(env);
    return std::make_unique<DaemonProcess>(options);
  }

  TempDir secrets_;
  const std::string password_file_ =
      secrets_.write("password", std::string(kPassword) + "\n").string();
  Cluster cluster_{{.redis = {.password = std::string(kPassword)},
                    .nodes = 2,
                    .node_args = {"--redis-password-file", password_file_}}};
};

TEST_F(RedisAuth, NodesWithThePasswordChatAcross) {
  Member first = join(cluster_.port(0));
  Member second = join(cluster_.port(1));
  EXPECT_TRUE(settle({&first, &second}, "*** Rooms: lobby (2)"));
  first.client.send("over a link Redis let in\n");
  EXPECT_TRUE(second.client.skip_until_line(says(first.name, "over a link Redis let in"),
                                            kCrossNodeTimeout));
}

TEST_F(RedisAuth, TheSystemdCredentialServesWhenNoFileIsConfigured) {
  TempDir credentials;
  credentials.write("redis-password", std::string(kPassword) + "\n");
  const auto third =
      start_node({"--node-id", "n3"}, {{"CREDENTIALS_DIRECTORY", credentials.path().string()}});
  EXPECT_TRUE(wait_for_status(*third, link_up_status(3)));
  Member here = join(third->port());
  Member there = join(cluster_.port(0));
  EXPECT_TRUE(settle({&here, &there}, "*** Rooms: lobby (2)"));
  here.client.send("credential accepted\n");
  EXPECT_TRUE(
      there.client.skip_until_line(says(here.name, "credential accepted"), kCrossNodeTimeout));
}

TEST_F(RedisAuth, WrongOrMissingPasswordKeepsTheNodeLocalAndLogsWhy) {
  const std::string wrong_file = secrets_.write("wrong", "hunter2\n").string();
  const auto wrong = start_node({"--node-id", "n3", "--redis-password-file", wrong_file});
  const auto none = start_node({"--node-id", "n4"});
  EXPECT_TRUE(wrong->wait_for_stderr("Redis refused the password: WRONGPASS", kLinkTimeout))
      << wrong->stderr_text();
  EXPECT_TRUE(none->wait_for_stderr("Redis refused to claim node id n4: NOAUTH", kLinkTimeout))
      << none->stderr_text();
  EXPECT_EQ(wrong->stderr_text().find(kPassword), std::string::npos);
  EXPECT_EQ(wrong->stderr_text().find("hunter2"), std::string::npos) << "never logged";
  for (DaemonProcess* outsider : {wrong.get(), none.get()}) {
    EXPECT_TRUE(wait_for_status(*outsider, kLinkDownStatus));
    Member local = join(outsider->port());
    EXPECT_TRUE(local.client.expect_line(kLinkLost)) << local.name;
  }
  // The cluster's two nodes count neither outsider.
  EXPECT_TRUE(wait_for_status(cluster_.node(0), link_up_status(2)));
  Member inside = join(cluster_.port(0));
  Member across = join(cluster_.port(1));
  EXPECT_TRUE(settle({&inside, &across}, "*** Rooms: lobby (2)"));
}

// The ACL line of docs/SECURITY.md and epollchatd(8), as redis-server arguments.
std::vector<std::string> epollchat_acl_user(std::string_view password) {
  return {"--user",
          "epollchat",
          "on",
          ">" + std::string(password),
          "resetkeys",
          "~epollchat:*",
          "resetchannels",
          "&epollchat:*",
          "+@all",
          "-@admin",
          "-@dangerous"};
}

TEST(RedisAclUser, NodesConfinedToEpollchatsNamesChatAcross) {
  constexpr std::string_view kNodePassword = "nodes only";
  TempDir secrets;
  const std::string password_file =
      secrets.write("password", std::string(kNodePassword) + "\n").string();
  Cluster cluster(
      {.redis = {.password = std::string(kPassword),
                 .extra_args = epollchat_acl_user(kNodePassword)},
       .nodes = 2,
       .node_args = {"--redis-user", "epollchat", "--redis-password-file", password_file}});
  auto [first, second] = connect_one_per_node<2>(cluster);
  EXPECT_TRUE(settle_in_lobby({&first, &second}));
  EXPECT_TRUE(take_nickname_seen_by(first, "ann", {&second}, kCrossNodeTimeout));
  first.client.send("through an ACL user\n");
  EXPECT_TRUE(second.client.skip_until_line(says("ann", "through an ACL user"), kCrossNodeTimeout));

  // The right password under another user name is refused.
  DaemonProcess stranger(DaemonOptions::with_args({"--redis", cluster.redis().address(),
                                                   "--node-id", "n3", "--redis-user", "someone",
                                                   "--redis-password-file", password_file}));
  EXPECT_TRUE(stranger.wait_for_stderr("Redis refused the password: WRONGPASS", kLinkTimeout))
      << stranger.stderr_text();
}

}  // namespace
}  // namespace epollchat::test
