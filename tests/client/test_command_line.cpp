// The command line and the failures before a session starts: help, version, usage errors
// (64), and servers that are not there (2).
#include <gtest/gtest.h>

#include "client_harness.hpp"
#include "support/loopback.hpp"
#include "support/run_command.hpp"

namespace epollchat::test {
namespace {

TEST(CommandLine, HelpGoesToStdoutWithStatusZero) {
  for (const char* option : {"-h", "--help"}) {
    const CommandResult result = run_command({client_path(), option});
    EXPECT_EQ(result.status, ExitStatus::exited_with(0)) << option;
    EXPECT_TRUE(result.out.starts_with("Usage: epollchat [OPTIONS] [HOST [PORT]]\n")) << result.out;
    EXPECT_EQ(result.err, "");
  }
}

TEST(CommandLine, VersionIsTheProjectVersion) {
  const CommandResult result = run_command({client_path(), "--version"});
  EXPECT_EQ(result.status, ExitStatus::exited_with(0));
  EXPECT_EQ(result.out, "epollchat 0.1.0\n");
}

TEST(CommandLine, UsageErrorsExitWith64AndSayWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--frobnicate"}, "epollchat: unknown option '--frobnicate'\n"},
      {{"127.0.0.1", "99999"}, "epollchat: invalid port '99999' (expected 1..65535)\n"},
      {{"127.0.0.1", "0"}, "epollchat: invalid port '0' (expected 1..65535)\n"},
      {{"127.0.0.1", "80x"}, "epollchat: invalid port '80x' (expected 1..65535)\n"},
      {{"a", "1", "extra"}, "epollchat: too many arguments\n"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv{client_path()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const CommandResult result = run_command(argv);
    EXPECT_EQ(result.status, ExitStatus::exited_with(64)) << c.args.front();
    EXPECT_TRUE(result.err.starts_with(c.message)) << result.err;
    EXPECT_EQ(result.out, "");
  }
}

// A port nobody listens on: bound and released a moment ago, so connect() is refused.
TEST(CommandLine, ConnectionRefusedIsOneClearLineAndStatusTwo) {
  const std::uint16_t port = pick_unused_port("127.0.0.1");
  const CommandResult result = run_command({client_path(), "127.0.0.1", std::to_string(port)});
  EXPECT_EQ(result.status, ExitStatus::exited_with(2));
  EXPECT_EQ(result.err, "epollchat: cannot connect to 127.0.0.1:" + std::to_string(port) +
                            ": Connection refused\n");
  EXPECT_EQ(result.out, "");
}

TEST(CommandLine, ConnectionRefusedOverIpv6NamesTheAddressInBrackets) {
  const std::uint16_t port = pick_unused_port("::1");
  const CommandResult result = run_command({client_path(), "::1", std::to_string(port)});
  EXPECT_EQ(result.status, ExitStatus::exited_with(2));
  EXPECT_EQ(result.err, "epollchat: cannot connect to [::1]:" + std::to_string(port) +
                            ": Connection refused\n");
}

// `epollchat 8899` is the local daemon on port 8899, not the IPv4 address 0.0.34.195.
TEST(CommandLine, ASingleNumberIsAPortOnTheLocalHost) {
  const std::uint16_t port = pick_unused_port("127.0.0.1");
  const CommandResult result = run_command({client_path(), std::to_string(port)});
  EXPECT_EQ(result.status, ExitStatus::exited_with(2));
  EXPECT_EQ(result.err, "epollchat: cannot connect to 127.0.0.1:" + std::to_string(port) +
                            ": Connection refused\n");
}

// A name is resolved and every address tried; the message names what the user typed.
TEST(CommandLine, ConnectionRefusedForANameNamesTheName) {
  const std::uint16_t port = pick_unused_port("127.0.0.1");
  const CommandResult result = run_command({client_path(), "localhost", std::to_string(port)});
  EXPECT_EQ(result.status, ExitStatus::exited_with(2));
  EXPECT_EQ(result.err, "epollchat: cannot connect to localhost:" + std::to_string(port) +
                            ": Connection refused\n");
}

}  // namespace
}  // namespace epollchat::test
