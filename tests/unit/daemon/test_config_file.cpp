// The config file: every accepted form and every error, with its file name and line.
#include "daemon/config_file.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/service_user.hpp"
#include "unit/daemon/setting_samples.hpp"
#include "unit/unit_helpers.hpp"

namespace epollchat::daemon {
namespace {

// The ConfigError message for `text`, or "" when it was accepted.
std::string error_of(std::string_view text, Settings* out = nullptr) {
  Settings settings;
  try {
    apply_config_text(settings, text, "test.conf");
  } catch (const ConfigError& error) {
    return error.what();
  }
  if (out != nullptr) *out = settings;
  return "";
}

Settings parsed(std::string_view text) {
  Settings settings;
  EXPECT_EQ(error_of(text, &settings), "");
  return settings;
}

TEST(ConfigText, EveryKey) {
  const Settings settings = parsed(
      "listen = ::1\n"
      "port = 9000\n"
      "max-clients = 10\n"
      "max-line = 100\n"
      "max-backlog = 2048\n"
      "max-rate = 0\n"
      "line-timeout = 5\n"
      "history = 50\n"
      "log-level = debug\n");
  EXPECT_EQ(settings.listen, "::1");
  EXPECT_EQ(settings.port, 9000);
  EXPECT_EQ(settings.max_clients, 10u);
  EXPECT_EQ(settings.max_line, 100u);
  EXPECT_EQ(settings.max_backlog, 2048u);
  EXPECT_EQ(settings.max_rate, 0u);
  EXPECT_EQ(settings.line_timeout, std::chrono::seconds(5));
  EXPECT_EQ(settings.history, 50u);
  EXPECT_EQ(settings.log_level, LogLevel::debug);
}

TEST(ConfigText, EveryKeyOfTheSettingTable) {
  for (const SettingSpec& spec : setting_specs()) {
    const std::string key(spec.key);
    const std::string value = valid_value(spec);
    Settings expected;
    ASSERT_EQ(apply_setting(expected, spec, value), std::nullopt) << key;
    EXPECT_EQ(parsed(key + " = " + value + "\n"), expected) << key;

    // A refused value is reported after the file, line and key, with what the table
    // expects; the key is named once.
    Settings scratch;
    const std::string bad = spec.is_number() ? std::to_string(spec.max + 1) : "bad value";
    const auto problem = apply_setting(scratch, spec, bad);
    ASSERT_TRUE(problem) << key << " = " << bad;
    EXPECT_EQ(error_of("\n" + key + " = " + bad + "\n"), "test.conf:2: " + *problem);
  }
}

TEST(ConfigText, EmptyTextKeepsTheDefaults) {
  const Settings settings = parsed("");
  EXPECT_EQ(settings.port, 8888);
  EXPECT_EQ(settings.listen, "127.0.0.1");
  EXPECT_EQ(settings, Settings());
}

TEST(ConfigText, CommentsBlankLinesAndSpacing) {
  const Settings settings = parsed(
      "# epollchatd.conf\n"
      "\n"
      "   \t\n"
      "   # an indented comment\n"
      "port=9001\n"
      "\tmax-line\t=\t77  \n"
      "#port = 1\n");
  EXPECT_EQ(settings.port, 9001);
  EXPECT_EQ(settings.max_line, 77u);
}

TEST(ConfigText, CrlfLines) {
  const Settings settings = parsed("# comment\r\nport = 9002\r\n\r\nlog-level = err\r\n");
  EXPECT_EQ(settings.port, 9002);
  EXPECT_EQ(settings.log_level, LogLevel::err);
  EXPECT_EQ(error_of("port = 1\r\nbogus = 1\r\n"), "test.conf:2: unknown key 'bogus'");
}

TEST(ConfigText, LastLineWithoutNewline) { EXPECT_EQ(parsed("port = 9003").port, 9003); }

TEST(ConfigText, LaterValueWins) { EXPECT_EQ(parsed("port = 1000\nport = 2000\n").port, 2000); }

TEST(ConfigText, MalformedLine) {
  EXPECT_EQ(error_of("port 8888\n"), "test.conf:1: expected 'key = value', got 'port 8888'");
  EXPECT_EQ(error_of("# ok\n\nlisten\n"), "test.conf:3: expected 'key = value', got 'listen'");
}

TEST(ConfigText, MalformedLineIsShortenedInTheMessage) {
  const std::string long_line(200, 'z');
  EXPECT_EQ(error_of(long_line),
            "test.conf:1: expected 'key = value', got '" + std::string(60, 'z') + "...'");
}

TEST(ConfigText, UnknownKey) {
  EXPECT_EQ(error_of("port = 1\n\n# x\nfoo = bar\n"), "test.conf:4: unknown key 'foo'");
  EXPECT_EQ(error_of("config = /etc/other.conf\n"), "test.conf:1: unknown key 'config'");
}

TEST(ConfigText, MissingKey) {
  EXPECT_EQ(error_of("\n= 5\n"), "test.conf:2: missing key before '='");
}

TEST(ConfigText, MissingValue) {
  EXPECT_EQ(error_of("port =\n"), "test.conf:1: missing value for key 'port'");
  EXPECT_EQ(error_of("max-line =   \t\n"), "test.conf:1: missing value for key 'max-line'");
}

TEST(ConfigText, BadValueForEachKeyNamesFileLineAndKey) {
  EXPECT_EQ(error_of("listen = example.org\n"),
            "test.conf:1: invalid listen address 'example.org' (expected an IPv4 "
            "or IPv6 address such as 127.0.0.1 or ::1)");
  EXPECT_EQ(error_of("\nport = 99999\n"), "test.conf:2: invalid port '99999' (expected 0-65535)");
  EXPECT_EQ(error_of("\n\nmax-clients = 0\n"),
            "test.conf:3: invalid value for max-clients '0' (expected "
            "1-1000000)");
  EXPECT_EQ(error_of("max-line = many\n"),
            "test.conf:1: invalid value for max-line 'many' (expected "
            "1-16777216)");
  EXPECT_EQ(error_of("max-backlog = 1023\n"),
            "test.conf:1: invalid value for max-backlog '1023' (expected "
            "1024-1073741824)");
  EXPECT_EQ(error_of("max-rate = fast\n"),
            "test.conf:1: invalid value for max-rate 'fast' (expected "
            "0-100000000)");
  EXPECT_EQ(error_of("line-timeout = 86401\n"),
            "test.conf:1: invalid value for line-timeout '86401' (expected "
            "0-86400)");
  EXPECT_EQ(error_of("history = 1001\n"),
            "test.conf:1: invalid value for history '1001' (expected 0-1000)");
  EXPECT_EQ(error_of("log-level = loud\n"),
            "test.conf:1: invalid log level 'loud' (expected emerg, alert, "
            "crit, err, warning, notice, info or debug)");
}

TEST(ConfigText, ATrailingCommentIsPartOfTheValue) {
  // Only whole-line comments exist; "9000 # web" is not a port.
  EXPECT_EQ(error_of("port = 9000 # web\n"),
            "test.conf:1: invalid port '9000 # web' (expected 0-65535)");
}

TEST(ConfigText, LineNumbersCountEveryLine) {
  std::string text;
  for (int i = 0; i < 41; ++i)
    text += (i % 3 == 0) ? "# comment\n" : (i % 3 == 1 ? "\n" : "port = 1\n");
  text += "port = x\n";
  EXPECT_EQ(error_of(text), "test.conf:42: invalid port 'x' (expected 0-65535)");
}

TEST(ConfigFile, ReadsAFileAndNamesItInErrors) {
  test::TempDir dir;
  const std::string good = dir.write("good.conf", "port = 7000\n");
  Settings settings;
  apply_config_file(settings, good);
  EXPECT_EQ(settings.port, 7000);

  const std::string bad = dir.write("bad.conf", "port = 7000\nwat = 1\n");
  try {
    apply_config_file(settings, bad);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), bad + ":2: unknown key 'wat'");
  }
}

TEST(ConfigFile, MissingFileIsAnError) {
  test::TempDir dir;
  Settings settings;
  const std::string path = dir.file("absent.conf");
  try {
    apply_config_file(settings, path);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot read config file " + path + ": No such file or directory");
  }
}

TEST(ConfigFile, ADirectoryIsAnUnreadableFileNotAnEmptyOne) {
  test::TempDir dir;
  Settings settings;
  EXPECT_THROW(apply_config_file(settings, dir.path()), ConfigError)
      << "reading a directory fails with EISDIR; it must not pass as an empty config";
}

CommandLine command_line(std::optional<std::string> config,
                         std::vector<std::pair<std::string, std::string>> settings = {}) {
  CommandLine line;
  line.config_path = std::move(config);
  line.settings = std::move(settings);
  return line;
}

TEST(LoadSettings, CommandLineOverridesTheFile) {
  test::TempDir dir;
  const std::string path = dir.write("c.conf", "port = 7000\nmax-clients = 5\nlog-level = err\n");
  const Settings settings = load_settings(
      command_line(path, {{"port", "7001"}, {"log-level", "debug"}, {"port", "7002"}}),
      dir.file("unused-default.conf"));
  EXPECT_EQ(settings.port, 7002) << "command line over file, later option over earlier";
  EXPECT_EQ(settings.log_level, LogLevel::debug);
  EXPECT_EQ(settings.max_clients, 5u) << "file values the command line does not set stay";
}

TEST(LoadSettings, AnAbsentDefaultFileIsSkipped) {
  test::TempDir dir;
  const Settings settings = load_settings(command_line(std::nullopt, {{"port", "7003"}}),
                                          dir.file("absent-default.conf"));
  EXPECT_EQ(settings.port, 7003);
  EXPECT_EQ(settings.max_clients, 1024u);
}

TEST(LoadSettings, APresentDefaultFileIsRead) {
  test::TempDir dir;
  const std::string path = dir.write("default.conf", "max-clients = 3\n");
  EXPECT_EQ(load_settings(command_line(std::nullopt), path).max_clients, 3u);
  dir.write("default.conf", "max-clients = three\n");
  EXPECT_THROW((void)load_settings(command_line(std::nullopt), path), ConfigError);
}

TEST(LoadSettings, AnExplicitMissingFileIsAnError) {
  test::TempDir dir;
  EXPECT_THROW((void)load_settings(command_line(dir.file("absent.conf")), dir.file("other")),
               ConfigError);
}

TEST(LoadSettings, ExplicitFileReplacesTheDefault) {
  test::TempDir dir;
  const std::string default_path = dir.write("default.conf", "max-clients = 3\n");
  const std::string explicit_path = dir.write("explicit.conf", "port = 7004\n");
  const Settings settings = load_settings(command_line(explicit_path), default_path);
  EXPECT_EQ(settings.port, 7004);
  EXPECT_EQ(settings.max_clients, 1024u) << "the default file is not read when -c is given";
}

TEST(LoadSettings, ChecksConsistencyAfterEverythingIsApplied) {
  test::TempDir dir;
  const std::string path = dir.write("c.conf", "max-backlog = 1024\n");
  try {
    (void)load_settings(command_line(path), dir.file("absent"));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "max-backlog (1024) must be at least max-line (4096) + 256");
  }
  // The command line can repair what the file broke.
  const Settings settings =
      load_settings(command_line(path, {{"max-line", "500"}}), dir.file("absent"));
  EXPECT_EQ(settings.max_line, 500u);
}

// A default config file whose directory does not exist, so it has no drop-ins either.
const std::string kAbsentDefault = "/nonexistent-epollchat-test/epollchatd.conf";

// Drop-ins: conf.d beside the main file, its *.conf files in name order after the main file,
// before the command line.
class DropIns : public ::testing::Test {
 protected:
  std::string write_dropin(const std::string& name, std::string_view text) const {
    std::filesystem::create_directories(dir_.file("conf.d"));
    return dir_.write("conf.d/" + name, text);
  }

  test::TempDir dir_;
  std::string main_ = dir_.write("main.conf", "port = 7000\nmax-clients = 5\n");
};

TEST_F(DropIns, ReadInNameOrderAfterTheMainFile) {
  write_dropin("20-later.conf", "port = 7020\nlog-level = err\n");
  write_dropin("10-first.conf", "port = 7010\nmax-line = 100\n");
  const Settings settings = load_settings(command_line(main_), dir_.file("unused-default"));
  EXPECT_EQ(settings.port, 7020) << "the last file by name wins";
  EXPECT_EQ(settings.max_line, 100u);
  EXPECT_EQ(settings.log_level, LogLevel::err);
  EXPECT_EQ(settings.max_clients, 5u) << "what no drop-in sets stays as the main file says";
}

TEST_F(DropIns, TheCommandLineStillWins) {
  write_dropin("10-port.conf", "port = 7010\n");
  EXPECT_EQ(load_settings(command_line(main_, {{"port", "7001"}}), kAbsentDefault).port, 7001);
}

TEST_F(DropIns, OnlyNamesEndingInConfAreRead) {
  write_dropin("10-port.conf.dpkg-old", "port = x\n");
  write_dropin("README", "this is not a setting\n");
  write_dropin(".20-hidden.conf", "port = y\n");
  write_dropin("30-port.conf~", "port = z\n");
  std::filesystem::create_directories(dir_.file("conf.d/40-dir.d"));
  EXPECT_EQ(load_settings(command_line(main_), kAbsentDefault).port, 7000);
  std::vector<std::string> problems;
  EXPECT_TRUE(config_dropin_paths(main_, problems).empty());
  EXPECT_TRUE(problems.empty());
}

TEST_F(DropIns, AMissingDirectoryIsFine) {
  std::vector<std::string> problems;
  EXPECT_TRUE(config_dropin_paths(main_, problems).empty());
  EXPECT_TRUE(problems.empty());
  // conf.d as a plain file: still no directory of drop-ins.
  dir_.write("conf.d", "port = 1\n");
  EXPECT_TRUE(config_dropin_paths(main_, problems).empty());
  EXPECT_TRUE(problems.empty());
}

TEST_F(DropIns, BesideTheDefaultFileEvenWhenItIsAbsent) {
  write_dropin("10-port.conf", "port = 7010\n");
  EXPECT_EQ(load_settings(command_line(std::nullopt), dir_.file("absent-default.conf")).port, 7010);
}

TEST_F(DropIns, EveryProblemOfEveryFileIsReportedWithFileAndLine) {
  dir_.write("main.conf", "port = 7000\nbogus\nmax-line = many\n");
  const std::string port = write_dropin("10-port.conf", "# port\n\nport = x\n");
  const std::string level = write_dropin("20-log.conf", "log-level = loud\nwat = 1\n");
  const ConfigReport report =
      check_configuration(command_line(main_), kAbsentDefault, CheckPlace::service);
  const std::vector<std::string> expected = {
      main_ + ":2: expected 'key = value', got 'bogus'",
      main_ + ":3: invalid value for max-line 'many' (expected 1-16777216)",
      port + ":3: invalid port 'x' (expected 0-65535)",
      level +
          ":1: invalid log level 'loud' (expected emerg, alert, crit, err, warning, notice, "
          "info or debug)",
      level + ":2: unknown key 'wat'",
  };
  EXPECT_EQ(report.problems, expected);
  try {
    (void)load_settings(command_line(main_), kAbsentDefault);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.problems(), expected) << "a start reports them all too";
  }
}

TEST_F(DropIns, ProblemsBetweenKeysComeAfterTheFiles) {
  write_dropin("10-bad.conf", "port = x\nmax-backlog = 1024\n");
  const ConfigReport report =
      check_configuration(command_line(main_), kAbsentDefault, CheckPlace::service);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[1], "max-backlog (1024) must be at least max-line (4096) + 256");
}

// Run in an admin's shell, --check-config cannot see the credentials systemd gives the
// service: it notes them instead of failing.
TEST(CheckInAShell, TlsCredentialsAreNotedNotFailed) {
  const CommandLine line = command_line(std::nullopt, {{"tls-port", "0"}});
  const ConfigReport shell = check_configuration(line, kAbsentDefault, CheckPlace::shell);
  EXPECT_TRUE(shell.problems.empty()) << shell.problems.front();
  const std::vector<std::string> notes = {
      "the credential tls-cert is only available inside the service; not checked",
      "the credential tls-key is only available inside the service; not checked"};
  EXPECT_EQ(shell.notes, notes);

  // In the service, with no credential, it is the failure it always was.
  const ConfigReport service = check_configuration(line, kAbsentDefault, CheckPlace::service);
  ASSERT_EQ(service.problems.size(), 1u);
  EXPECT_TRUE(service.problems[0].starts_with("TLS needs a certificate and a key"));
  EXPECT_TRUE(service.notes.empty());
}

TEST(CheckInAShell, ConfiguredTlsFilesAreStillChecked) {
  test::TempDir dir;
  const std::string junk = dir.write("junk.pem", "not a certificate\n");
  const ConfigReport shell = check_configuration(
      command_line(std::nullopt, {{"tls-port", "0"}, {"tls-cert", junk}, {"tls-key", junk}}),
      kAbsentDefault, CheckPlace::shell);
  EXPECT_TRUE(shell.notes.empty());
  ASSERT_EQ(shell.problems.size(), 1u);
  EXPECT_NE(shell.problems[0].find(junk), std::string::npos) << shell.problems[0];
}

TEST(CheckInAShell, TheRedisPasswordCredentialIsNoted) {
  const CommandLine line =
      command_line(std::nullopt, {{"redis", "127.0.0.1:6379"}, {"redis-user", "epollchat"}});
  const ConfigReport shell = check_configuration(line, kAbsentDefault, CheckPlace::shell);
  EXPECT_TRUE(shell.problems.empty()) << shell.problems.front();
  EXPECT_EQ(shell.notes, std::vector<std::string>{"the credential redis-password is only "
                                                  "available inside the service; not checked"});
  const ConfigReport service = check_configuration(line, kAbsentDefault, CheckPlace::service);
  ASSERT_EQ(service.problems.size(), 1u);
  EXPECT_TRUE(service.problems[0].starts_with("redis-user 'epollchat' needs a password"));
}

// The service runs as a dynamic user, which reads a file only through its "others" bits.
TEST(CheckInAShell, APasswordFileOthersCannotReadIsReported) {
  ASSERT_FALSE(runs_as_dynamic_user()) << "as the service's own user, the read itself decides";
  test::TempDir dir;
  const std::string path = dir.write("redis-password", "s3cret\n");
  const CommandLine line =
      command_line(std::nullopt, {{"redis", "127.0.0.1:6379"}, {"redis-password-file", path}});

  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const ConfigReport hidden = check_configuration(line, kAbsentDefault, CheckPlace::shell);
  EXPECT_EQ(hidden.problems,
            std::vector<std::string>{
                "redis-password-file " + path +
                ": the service user cannot read it (the service runs as a dynamic user); use "
                "the credential redis-password instead (LoadCredential=redis-password:" +
                path + "), see epollchatd(8)"});
  // Started by hand, this process reads the file: only the check speaks for the service.
  EXPECT_TRUE(check_configuration(line, kAbsentDefault, CheckPlace::service).problems.empty());

  std::filesystem::permissions(path, std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  const ConfigReport readable = check_configuration(line, kAbsentDefault, CheckPlace::shell);
  EXPECT_TRUE(readable.problems.empty()) << readable.problems.front();
  EXPECT_TRUE(readable.notes.empty());
  EXPECT_EQ(readable.settings.redis_password, "s3cret");
}

}  // namespace
}  // namespace epollchat::daemon
