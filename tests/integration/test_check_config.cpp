// --check-config through the built binary: the config file's conf.d drop-ins, every problem
// reported with its file and line before exit 78, and the verdict run by hand in a shell,
// where the credentials systemd gives the service are missing: noted, not failed.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace epollchat::test {
namespace {

constexpr int kExConfig = 78;

class CheckConfig : public ::testing::Test {
 protected:
  CommandResult check(const std::vector<std::string>& extra = {},
                      const std::map<std::string, std::string>& env = {}) const {
    std::vector<std::string> argv{daemon_path(), "--check-config", "-c", main_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv, env);
  }

  std::string write_dropin(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(dir_.file("conf.d"));
    return dir_.write("conf.d/" + name, text).string();
  }

  TempDir dir_;
  std::string main_ = dir_.write("epollchatd.conf", "port = 0\n").string();
};

TEST_F(CheckConfig, ReportsEveryProblemOfTheFileAndItsDropInsThenExits78) {
  dir_.write("epollchatd.conf", "port = 0\nbogus\n");
  const std::string port = write_dropin("10-port.conf", "# the port\n\nport = x\n");
  const std::string clients = write_dropin("20-clients.conf", "max-clients = 0\ncolour = red\n");
  write_dropin("README", "not read\n");
  const CommandResult result = check();
  EXPECT_EQ(result.status, ExitStatus::exited_with(kExConfig)) << result.err;
  EXPECT_EQ(result.err, "epollchatd: " + main_ +
                            ":2: expected 'key = value', got 'bogus'\n"
                            "epollchatd: " +
                            port +
                            ":3: invalid port 'x' (expected 0-65535)\n"
                            "epollchatd: " +
                            clients +
                            ":1: invalid value for max-clients '0' (expected 1-1000000)\n"
                            "epollchatd: " +
                            clients + ":2: unknown key 'colour'\n");
  EXPECT_EQ(result.out, "");
}

TEST_F(CheckConfig, ADropInOverridesTheMainFileAndIsChecked) {
  // The main file's value is bad only together with the drop-in's: both were read.
  dir_.write("epollchatd.conf", "max-line = 4096\n");
  write_dropin("50-backlog.conf", "max-backlog = 2048\n");
  const CommandResult bad = check();
  EXPECT_EQ(bad.status, ExitStatus::exited_with(kExConfig));
  EXPECT_NE(bad.err.find("max-backlog (2048) must be at least max-line (4096)"), std::string::npos)
      << bad.err;
  write_dropin("60-line.conf", "max-line = 1000\n");
  const CommandResult good = check();
  EXPECT_EQ(good.status, ExitStatus::exited_with(0)) << good.err;
  EXPECT_EQ(good.out, "epollchatd: configuration OK\n");
}

TEST_F(CheckConfig, TlsCredentialsAreNotedInAShellAndCheckedInTheService) {
  const CommandResult shell = check({"--tls-port", "0"});
  EXPECT_EQ(shell.status, ExitStatus::exited_with(0)) << shell.err;
  EXPECT_EQ(shell.err,
            "epollchatd: note: the credential tls-cert is only available inside the service; "
            "not checked\n"
            "epollchatd: note: the credential tls-key is only available inside the service; "
            "not checked\n");
  EXPECT_EQ(shell.out, "epollchatd: configuration OK\n");

  // As ExecReload runs it: the credentials directory is there, and has no certificate.
  TempDir credentials;
  const CommandResult service =
      check({"--tls-port", "0"}, {{"CREDENTIALS_DIRECTORY", credentials.path().string()}});
  EXPECT_EQ(service.status, ExitStatus::exited_with(kExConfig));
  EXPECT_NE(service.err.find("TLS needs a certificate and a key"), std::string::npos)
      << service.err;
}

TEST_F(CheckConfig, TheRedisPasswordCredentialIsNotedInAShell) {
  const std::vector<std::string> redis = {"--redis", "127.0.0.1:6379", "--redis-user", "chat"};
  const CommandResult shell = check(redis);
  EXPECT_EQ(shell.status, ExitStatus::exited_with(0)) << shell.err;
  EXPECT_EQ(shell.err,
            "epollchatd: note: the credential redis-password is only available inside the "
            "service; not checked\n");

  TempDir credentials;
  const CommandResult service =
      check(redis, {{"CREDENTIALS_DIRECTORY", credentials.path().string()}});
  EXPECT_EQ(service.status, ExitStatus::exited_with(kExConfig));
  EXPECT_NE(service.err.find("redis-user 'chat' needs a password"), std::string::npos)
      << service.err;
  credentials.write("redis-password", "s3cret\n");
  const CommandResult given =
      check(redis, {{"CREDENTIALS_DIRECTORY", credentials.path().string()}});
  EXPECT_EQ(given.status, ExitStatus::exited_with(0)) << given.err;
  EXPECT_EQ(given.err, "");
}

// The unit runs the daemon as a dynamic user: a password file it cannot read passes a
// check run as root (or as the file's owner) only if the check looks at what others may read.
TEST_F(CheckConfig, APasswordFileTheServiceUserCannotReadIsReported) {
  const std::string password = dir_.write("redis-password", "s3cret\n").string();
  ASSERT_EQ(chmod(password.c_str(), 0600), 0);
  const std::vector<std::string> redis = {"--redis", "127.0.0.1:6379", "--redis-password-file",
                                          password};
  const CommandResult hidden = check(redis);
  EXPECT_EQ(hidden.status, ExitStatus::exited_with(kExConfig));
  EXPECT_EQ(hidden.err, "epollchatd: redis-password-file " + password +
                            ": the service user cannot read it (the service runs as a dynamic "
                            "user); use the credential redis-password instead "
                            "(LoadCredential=redis-password:" +
                            password + "), see epollchatd(8)\n");

  ASSERT_EQ(chmod(password.c_str(), 0644), 0);
  const CommandResult readable = check(redis);
  EXPECT_EQ(readable.status, ExitStatus::exited_with(0)) << readable.err;
  EXPECT_EQ(readable.err, "");
}

}  // namespace
}  // namespace epollchat::test
