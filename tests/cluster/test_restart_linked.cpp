// A linked node restarted through the file descriptor store (the test plays its service
// manager, ServiceManager) carries on as the same node: its clients keep their names,
// nicknames and rooms, the other node sees nobody leave or join and still lists them, chat
// crosses the link again once it is back up, and a nickname held on the restarted node stays
// taken, during the restart too. After SIGKILL its clients join again as new clients, and
// the other node sees the old ones leave and the new ones join.
// The restarted node runs with a fixed node id, or none (then it keeps the one it chose).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>

#include "cluster/cluster.hpp"
#include "cluster/cluster_member.hpp"
#include "support/protocol_lines.hpp"
#include "support/service_manager.hpp"

namespace epollchat::test {
namespace {

using namespace lines;
using Names = std::multiset<std::string>;

constexpr std::string_view kRestartedAfterFailure =
    "*** Server restarted after a failure; you join again as a new client.";
// After SIGKILL the other node forgets the dead process within the node TTL (5 s); with a
// fixed node id the new process also waits that long for the id to be free.
constexpr std::chrono::milliseconds kAfterCrashTimeout{std::chrono::seconds(25)};

struct NodeIdSetting {
  const char* name;
  const char* node_id;  // "" for none
};
// So that a failure names the setting rather than printing its bytes.
void PrintTo(const NodeIdSetting& setting, std::ostream* out) { *out << setting.name; }

ServiceManagerOptions linked_to(const RedisServer& redis, const NodeIdSetting& setting) {
  ServiceManagerOptions options;
  options.config_text = "redis = " + redis.address() + "\n";
  if (std::string_view(setting.node_id).empty()) return options;
  options.config_text += "node-id = " + std::string(setting.node_id) + "\n";
  return options;
}

// Who a join or leave notice is about ("*** NAME joined (N online)"), or nullopt.
std::optional<std::string> subject_of(std::string_view line, std::string_view what) {
  if (!line.starts_with("*** ")) return std::nullopt;
  const auto end = line.find(what);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(line.substr(4, end - 4));
}

// The other node is n1, run as the cluster tests run nodes; the restarted node runs under
// the ServiceManager, linked through the same redis-server.
// Members: ann (nickname "ann") in dev and al in the lobby on the restarted node; bo in the
// lobby and bea in dev on the other node.
class RestartLinked : public ::testing::TestWithParam<NodeIdSetting> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(wait_for_restarted_link());
    ASSERT_TRUE(cluster_.wait_for_status(0, link_up_status(2), 0));
    ann_.emplace(join(restarted_.port()));
    al_.emplace(join(restarted_.port()));
    bo_.emplace(join(cluster_.port(0)));
    bea_.emplace(join(cluster_.port(0)));
    ASSERT_TRUE(settle_in_lobby({&*ann_, &*al_, &*bo_, &*bea_}));
    ASSERT_TRUE(take_nickname_seen_by(*ann_, "ann", {&*al_, &*bo_, &*bea_}, kCrossNodeTimeout));
    // Each move is seen by everyone concerned before the next step, so both nodes agree on
    // who is where.
    ASSERT_TRUE(join_room(*ann_, "dev", 1, kCrossNodeTimeout));
    ASSERT_TRUE(expect_line_at_each({&*al_, &*bo_, &*bea_}, left("ann", 3), kCrossNodeTimeout));
    ASSERT_TRUE(join_room(*bea_, "dev", 2, kCrossNodeTimeout));
    ASSERT_TRUE(ann_->client.expect_line(joined(bea_->name, 2), kCrossNodeTimeout));
    ASSERT_TRUE(expect_line_at_each({&*al_, &*bo_}, left(bea_->name, 2), kCrossNodeTimeout));
    ASSERT_TRUE(settle({&*ann_, &*al_, &*bo_, &*bea_}, "*** Rooms: lobby (2), dev (2)"));
  }

  // The restarted node's current process has its link up: it is subscribed, so what the
  // other node publishes from now on reaches it.
  ::testing::AssertionResult wait_for_restarted_link() {
    const std::string up = "link to Redis at " + cluster_.redis().address() + " up";
    if (restarted_.wait_for_log(up, kLinkTimeout)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no '" << up << "' in:\n" << restarted_.log();
  }

  // The restarted node's members are back, each with the one notice, as the same client.
  void expect_restored() {
    EXPECT_TRUE(ann_->client.expect_line(restarted("ann", "dev"), kCrossNodeTimeout));
    EXPECT_TRUE(al_->client.expect_line(restarted(al_->name, "lobby"), kCrossNodeTimeout));
  }

  // Each side's next line is the other side's marker: nobody saw a join, leave or rename.
  void expect_chat_across_both_ways(std::string_view marker) {
    EXPECT_TRUE(expect_nothing_before_marker(*bo_, *al_, marker, kCrossNodeTimeout));
    EXPECT_TRUE(expect_nothing_before_marker(*bea_, *ann_, marker, kCrossNodeTimeout));
    EXPECT_TRUE(expect_nothing_before_marker(*al_, *bo_, marker, kCrossNodeTimeout));
    EXPECT_TRUE(expect_nothing_before_marker(*ann_, *bea_, marker, kCrossNodeTimeout));
  }

  Cluster cluster_{ClusterOptions{.nodes = 1}};
  ServiceManager restarted_{linked_to(cluster_.redis(), GetParam())};
  std::optional<Member> ann_;
  std::optional<Member> al_;
  std::optional<Member> bo_;
  std::optional<Member> bea_;
};

TEST_P(RestartLinked, ClientsStayWhoAndWhereTheyWereOnBothNodes) {
  const std::string al_name = al_->name;
  const std::string node_id = GetParam().node_id;
  ASSERT_TRUE(al_name.starts_with("Client #" + node_id)) << al_name;
  EXPECT_EQ(restarted_.restart(), ExitStatus::exited_with(0)) << restarted_.log();
  EXPECT_TRUE(
      restarted_.wait_for_log("restored 2 clients from the previous process", kCrossNodeTimeout))
      << restarted_.log();
  expect_restored();
  // Lines published while the link is down are lost (at most once): chat after it is up.
  ASSERT_TRUE(wait_for_restarted_link());
  expect_chat_across_both_ways("after the restart");
  // The other node still lists them where they were; the restarted node learnt its peers.
  EXPECT_TRUE(who_lists(*bo_, {al_name, bo_->name}, kCrossNodeTimeout));
  EXPECT_TRUE(who_lists(*bea_, {"ann", bea_->name}, kCrossNodeTimeout));
  EXPECT_TRUE(wait_for_who(*al_, {al_name, bo_->name}));
  EXPECT_TRUE(wait_for_who(*ann_, {"ann", bea_->name}));
  const Deadline deadline(kCrossNodeTimeout);
  EXPECT_EQ(query_rooms(*bo_, deadline), "*** Rooms: lobby (2), dev (2)");
}

TEST_P(RestartLinked, NicknameStaysTakenDuringAndAfterTheRestart) {
  EXPECT_EQ(restarted_.stop(SIGTERM), ExitStatus::exited_with(0)) << restarted_.log();
  // No process holds the claim now; the claim itself names the instance that carries on.
  bo_->client.send("/nick ann\n");
  EXPECT_TRUE(bo_->client.expect_line(nickname_taken("ann"), kCrossNodeTimeout));
  restarted_.relaunch();
  expect_restored();
  ASSERT_TRUE(wait_for_restarted_link());
  bo_->client.send("/nick Ann\n");
  EXPECT_TRUE(bo_->client.expect_line(nickname_taken("Ann"), kCrossNodeTimeout));
  bea_->client.send("/nick ANN\n");
  EXPECT_TRUE(bea_->client.expect_line(nickname_taken("ANN"), kCrossNodeTimeout));
  // The refusals were announced nowhere, and ann speaks under her name.
  expect_chat_across_both_ways("still ann");
}

TEST_P(RestartLinked, AfterSigkillClientsJoinAgainAndTheOtherNodeSeesIt) {
  const std::string old_al = al_->name;
  EXPECT_EQ(restarted_.kill_and_restart(), ExitStatus::killed_by(SIGKILL));
  for (Member* member : {&*ann_, &*al_}) {
    ASSERT_TRUE(member->client.expect_line(kRestartedAfterFailure, kCrossNodeTimeout))
        << member->name;
    const auto welcome = member->client.read_line(kCrossNodeTimeout);
    ASSERT_TRUE(welcome) << member->name;
    const auto name = parse_welcome_name(*welcome);
    ASSERT_TRUE(name) << *welcome;
    member->name = std::string(*name);
  }
  // A new process numbers its clients from 1 again: with a fixed node id, a new name may be
  // an old one. The nickname is gone.
  EXPECT_NE(ann_->name, "ann");

  // bo, in the lobby, sees al leave and both join again as new clients (in any order: the
  // old process is forgotten when its key expires, the new one appears when its link is up).
  const Names expected_lobby{"left " + old_al, "joined " + ann_->name, "joined " + al_->name};
  Names seen;
  const Deadline deadline(kAfterCrashTimeout);
  while (seen != expected_lobby) {
    const auto line = bo_->client.read_line(deadline.remaining());
    ASSERT_TRUE(line) << "bo saw only " << listed(seen);
    if (const auto left_name = subject_of(*line, " left (")) {
      seen.insert("left " + *left_name);
    } else if (const auto joined_name = subject_of(*line, " joined (")) {
      seen.insert("joined " + *joined_name);
    } else {
      ADD_FAILURE() << "bo got: " << *line;
    }
    ASSERT_LE(seen.size(), expected_lobby.size()) << "bo saw " << listed(seen);
  }
  // bea, in dev, sees ann leave it, and nothing else before the reply to her /who.
  EXPECT_TRUE(bea_->client.expect_line(left("ann", 1), deadline.remaining()));
  EXPECT_TRUE(who_lists(*bea_, {bea_->name}, kCrossNodeTimeout));
  EXPECT_TRUE(who_lists(*bo_, {ann_->name, al_->name, bo_->name}, kCrossNodeTimeout));
  // The crashed process's nickname went with it.
  EXPECT_TRUE(wait_for_nickname(*bo_, "ann"));
}

constexpr NodeIdSetting kNodeIdSettings[] = {
    {"FixedNodeId", "n2"},
    {"ChosenNodeId", ""},
};

INSTANTIATE_TEST_SUITE_P(NodeIds, RestartLinked, ::testing::ValuesIn(kNodeIdSettings),
                         [](const ::testing::TestParamInfo<NodeIdSetting>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
}  // namespace epollchat::test
