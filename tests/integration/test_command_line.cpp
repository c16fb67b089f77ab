// The command line and config file, through the built binary: --help, --version, usage
// errors (64), config errors (78, naming file and line), and --check-config, which never
// binds.
#include <gtest/gtest.h>

#include <string>

#include "support/chat_client.hpp"
#include "support/daemon_process.hpp"
#include "support/loopback.hpp"
#include "support/notify_socket.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

constexpr int kExUsage = 64;
constexpr int kExConfig = 78;

CommandResult run_daemon(const std::vector<std::string>& args) {
  std::vector<std::string> argv{daemon_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

TEST(CommandLine, HelpPrintsUsageOnStdoutAndExitsZero) {
  const auto result = run_daemon({"--help"});
  EXPECT_EQ(result.status, ExitStatus::exited_with(0));
  for (const char* option :
       {"--listen", "--port", "--config", "--max-clients", "--max-line", "--max-backlog",
        "--log-level", "--check-config", "--help", "--version"}) {
    EXPECT_NE(result.out.find(option), std::string::npos) << "--help does not mention " << option;
  }
  EXPECT_EQ(run_daemon({"-h"}).out, result.out);
}

TEST(CommandLine, VersionPrintsProjectVersion) {
  const auto result = run_daemon({"--version"});
  EXPECT_EQ(result.status, ExitStatus::exited_with(0));
  EXPECT_EQ(result.out, "epollchatd 0.1.0\n");
}

TEST(CommandLine, UnknownOptionExitsUsage) {
  const auto result = run_daemon({"--no-such-option"});
  EXPECT_EQ(result.status, ExitStatus::exited_with(kExUsage));
  EXPECT_NE(result.err.find("no-such-option"), std::string::npos) << "stderr: " << result.err;
}

TEST(CommandLine, OutOfRangePortExitsUsageNamingThePort) {
  const auto result = run_daemon({"--port", "99999"});
  EXPECT_EQ(result.status, ExitStatus::exited_with(kExUsage));
  EXPECT_NE(result.err.find("epollchatd: invalid port '99999'"), std::string::npos)
      << "stderr: " << result.err;
}

TEST(CommandLine, MissingOptionValueExitsUsage) {
  EXPECT_EQ(run_daemon({"--port"}).status, ExitStatus::exited_with(kExUsage));
}

class ConfigFile : public ::testing::Test {
 protected:
  // Runs the daemon on a config file holding `text`; every case here must fail before binding.
  CommandResult run_with(const std::string& text, std::vector<std::string> extra = {}) {
    path_ = dir_.write("epollchatd.conf", text).string();
    std::vector<std::string> args{"-c", path_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_daemon(args);
  }

  TempDir dir_;
  std::string path_;
};

TEST_F(ConfigFile, UnknownKeyExitsConfigNamingFileLineAndKey) {
  const auto result = run_with("# comment\n\nport = 0\nfoo = bar\n");
  EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig));
  EXPECT_NE(result.err.find("epollchatd: " + path_ + ":4: unknown key 'foo'"), std::string::npos)
      << "stderr: " << result.err;
}

TEST_F(ConfigFile, MalformedLineExitsConfigNamingFileAndLine) {
  const auto result = run_with("port = 0\nthis line has no equals sign\n");
  EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig));
  EXPECT_NE(result.err.find(path_ + ":2:"), std::string::npos) << "stderr: " << result.err;
}

TEST_F(ConfigFile, BadValueExitsConfigNamingFileLineAndKey) {
  const auto result = run_with("max-line = 100\nmax-clients = lots\n");
  EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig));
  EXPECT_NE(result.err.find(path_ + ":2:"), std::string::npos) << "stderr: " << result.err;
  EXPECT_NE(result.err.find("max-clients"), std::string::npos) << "stderr: " << result.err;
}

TEST_F(ConfigFile, MissingExplicitConfigFileExitsConfig) {
  const std::string missing = dir_.file("does-not-exist.conf").string();
  const auto result = run_daemon({"-c", missing});
  EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig));
  EXPECT_NE(result.err.find(missing), std::string::npos) << "stderr: " << result.err;
}

TEST_F(ConfigFile, CommandLineOverridesTheFile) {
  path_ = dir_.write("epollchatd.conf", "max-clients = 1\nmax-line = 10\n").string();
  DaemonOptions options = DaemonOptions::with_args({"-c", path_, "--max-clients", "2"});
  options.config_text.reset();
  DaemonProcess daemon(options);
  ChatClient first(daemon.port());
  ASSERT_TRUE(first.expect_line("Welcome to the chat room! Your chat ID is: Client #1"));
  ChatClient second(daemon.port());
  EXPECT_TRUE(second.expect_line("Welcome to the chat room! Your chat ID is: Client #2"));
  ASSERT_TRUE(first.expect_line("*** Client #2 joined (2 online)"));
  // max-line = 10 from the file still applies.
  first.send("eleven byte\n");
  EXPECT_TRUE(first.expect_line("*** Line too long (max 10 bytes); dropped."));
}

// --check-config must not bind: give it a port that is taken, which binding would fail on,
// and a notify socket, which must stay silent.
class CheckConfig : public ConfigFile {
 protected:
  CommandResult check(const std::string& text, const char* flag) {
    path_ = dir_.write("epollchatd.conf", text).string();
    return run_command({daemon_path(), flag, "-c", path_, "--listen", "127.0.0.1", "--port",
                        std::to_string(local_port(taken_.get()))},
                       {{"NOTIFY_SOCKET", notify_.address()}});
  }

  UniqueFd taken_ = listen_on("127.0.0.1");
  NotifySocket notify_;
};

TEST_F(CheckConfig, GoodFileExitsZeroWithoutBinding) {
  for (const char* flag : {"--check-config", "-t"}) {
    const auto result = check("# ok\nmax-line = 512\nmax-clients = 10\nlog-level = debug\n", flag);
    EXPECT_EQ(result.status, ExitStatus::exited_with(0)) << flag << "; stderr: " << result.err;
    EXPECT_EQ(result.err.find("cannot listen"), std::string::npos) << flag << ": " << result.err;
  }
  EXPECT_FALSE(notify_.receive(0ms).has_value()) << "--check-config talked to NOTIFY_SOCKET";
}

TEST_F(CheckConfig, BadFileExitsConfigNamingFileAndLine) {
  for (const char* flag : {"--check-config", "-t"}) {
    const auto result = check("max-line = 512\nbogus = 1\n", flag);
    EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig)) << flag;
    EXPECT_NE(result.err.find(path_ + ":2:"), std::string::npos) << flag << ": " << result.err;
  }
  EXPECT_FALSE(notify_.receive(0ms).has_value()) << "--check-config talked to NOTIFY_SOCKET";
}

}  // namespace
}  // namespace epollchat::test
