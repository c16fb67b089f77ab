// The Redis password: read from a file (or the systemd credential), one line, never empty;
// and how load_settings() finds it.
#include "daemon/redis_password.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "daemon/config_file.hpp"
#include "unit/unit_helpers.hpp"

namespace epollchat::daemon {
namespace {

// The message of the ConfigError read_redis_password() throws, or "" if it returned.
std::string error_reading(const std::string& path) {
  try {
    (void)read_redis_password(path);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

// Sets CREDENTIALS_DIRECTORY for one test and restores the environment after it.
class CredentialsDirectory {
 public:
  explicit CredentialsDirectory(const std::string& path) {
    if (const char* old = std::getenv("CREDENTIALS_DIRECTORY")) old_ = old;
    setenv("CREDENTIALS_DIRECTORY", path.c_str(), 1);
  }
  ~CredentialsDirectory() {
    if (old_.empty()) {
      unsetenv("CREDENTIALS_DIRECTORY");
    } else {
      setenv("CREDENTIALS_DIRECTORY", old_.c_str(), 1);
    }
  }
  CredentialsDirectory(const CredentialsDirectory&) = delete;
  CredentialsDirectory& operator=(const CredentialsDirectory&) = delete;

 private:
  std::string old_;
};

TEST(RedisPassword, TheFirstLineWithoutItsEnding) {
  test::TempDir dir;
  EXPECT_EQ(read_redis_password(dir.write("lf", "s3cret\n")), "s3cret");
  EXPECT_EQ(read_redis_password(dir.write("crlf", "s3cret\r\n")), "s3cret");
  EXPECT_EQ(read_redis_password(dir.write("bare", "s3cret")), "s3cret");
  EXPECT_EQ(read_redis_password(dir.write("spaces", " pass word \n")), " pass word ")
      << "spaces belong to the password";
}

TEST(RedisPassword, BadFilesAreConfigErrorsNamingTheFile) {
  test::TempDir dir;
  const std::string absent = dir.file("absent");
  EXPECT_EQ(error_reading(absent),
            "cannot read redis password file " + absent + ": No such file or directory");
  EXPECT_EQ(error_reading(dir.path()),
            "cannot read redis password file " + dir.path().string() + ": Is a directory");
  const std::string empty = dir.write("empty", "");
  EXPECT_EQ(error_reading(empty), "redis password file " + empty + " is empty");
  const std::string newline = dir.write("newline", "\n");
  EXPECT_EQ(error_reading(newline), "redis password file " + newline + " is empty");
  const std::string two = dir.write("two", "one\ntwo\n");
  EXPECT_EQ(error_reading(two), "redis password file " + two + " holds more than one line");
  const std::string huge = dir.write("huge", std::string(kMaxRedisPasswordSize + 1, 'x'));
  EXPECT_EQ(error_reading(huge), "cannot read redis password file " + huge + ": File too large");
}

TEST(RedisPassword, CredentialPathOnlyWhenSystemdPassedIt) {
  test::TempDir dir;
  {
    const CredentialsDirectory credentials(dir.path());
    EXPECT_EQ(redis_password_credential_path(), "") << "directory without the credential";
    const std::string path = dir.write("redis-password", "s3cret\n");
    EXPECT_EQ(redis_password_credential_path(), path);
  }
  unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_EQ(redis_password_credential_path(), "");
}

CommandLine with_settings(std::vector<std::pair<std::string, std::string>> settings) {
  CommandLine line;
  line.settings = std::move(settings);
  return line;
}

TEST(RedisPassword, LoadSettingsReadsTheFileOrTheCredentialOnlyWithALink) {
  test::TempDir dir;
  const std::string absent_default = dir.file("absent.conf");
  const std::string file = dir.write("file-password", "from-file\n");
  const CredentialsDirectory credentials(dir.path());
  dir.write("redis-password", "from-credential\n");

  const std::pair<std::string, std::string> redis{"redis", "127.0.0.1:6379"};
  const auto load = [&](std::vector<std::pair<std::string, std::string>> settings) {
    return load_settings(with_settings(std::move(settings)), absent_default);
  };
  EXPECT_EQ(load({redis, {"redis-password-file", file}}).redis_password, "from-file")
      << "the configured file wins over the credential";
  EXPECT_EQ(load({redis}).redis_password, "from-credential");
  EXPECT_EQ(load({}).redis_password, "") << "no link, no password read";
  EXPECT_THROW((void)load({redis, {"redis-password-file", dir.file("absent")}}), ConfigError);
}

TEST(RedisPassword, AUserWithoutAPasswordIsAConfigError) {
  test::TempDir dir;
  const CommandLine line =
      with_settings({{"redis", "127.0.0.1:6379"}, {"redis-user", "epollchat"}});
  try {
    (void)load_settings(line, dir.file("absent.conf"));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "redis-user 'epollchat' needs a password: set redis-password-file or give the "
              "service the credential redis-password");
  }
}

}  // namespace
}  // namespace epollchat::daemon
