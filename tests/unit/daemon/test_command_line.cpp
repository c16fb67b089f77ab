// The epollchatd command line: parsing in-process, then the built binary's exit codes
// (its path comes from meson in EPOLLCHATD).
#include "daemon/command_line.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "build_config.hpp"
#include "core/socket.hpp"
#include "daemon/settings.hpp"
#include "unit/daemon/setting_samples.hpp"
#include "unit/unit_helpers.hpp"

namespace epollchat::daemon {
namespace {

using Setting = std::pair<std::string, std::string>;

CommandLine parse(std::vector<std::string_view> args) { return parse_command_line(args); }

// The UsageError message for `args`, or "" if they parsed.
std::string usage_error(std::vector<std::string_view> args) {
  try {
    (void)parse(args);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "";
}

TEST(CommandLine, NoArgumentsRunsWithDefaults) {
  const CommandLine line = parse({});
  EXPECT_EQ(line.action, CommandLine::Action::run);
  EXPECT_FALSE(line.config_path);
  EXPECT_TRUE(line.settings.empty());
}

TEST(CommandLine, EverySettingInBothForms) {
  const std::vector<Setting> cases = {
      {"listen", "::1"},      {"port", "0"},           {"max-clients", "12"},
      {"max-line", "100"},    {"max-backlog", "4096"}, {"max-rate", "0"},
      {"line-timeout", "30"}, {"log-level", "debug"},  {"history", "0"},
  };
  for (const auto& [key, value] : cases) {
    const std::string option = "--" + key;
    const std::vector<Setting> expected{{key, value}};
    EXPECT_EQ(parse({option, value}).settings, expected) << option;
    const std::string joined = option + "=" + value;
    EXPECT_EQ(parse({joined}).settings, expected) << joined;
  }
}

TEST(CommandLine, EveryKeyOfTheSettingTableIsALongOption) {
  for (const SettingSpec& spec : setting_specs()) {
    const std::string key(spec.key);
    const std::string option = "--" + key;
    const std::string value = valid_value(spec);
    const std::vector<Setting> expected{{key, value}};
    EXPECT_EQ(parse({option, value}).settings, expected) << option;
    const std::string joined = option + "=" + value;
    EXPECT_EQ(parse({joined}).settings, expected) << joined;
    EXPECT_EQ(usage_error({option}), "option '" + option + "' needs a value");

    // A refused value is refused with the table's message.
    Settings scratch;
    const std::string bad = spec.is_number() ? std::to_string(spec.max + 1) : "bad value";
    const auto problem = apply_setting(scratch, spec, bad);
    ASSERT_TRUE(problem) << key << " = " << bad;
    EXPECT_EQ(usage_error({option, bad}), *problem);
  }
}

TEST(CommandLine, SettingsKeepTheirOrder) {
  EXPECT_EQ(parse({"--port", "1", "--listen=::", "--port=2"}).settings,
            (std::vector<Setting>{{"port", "1"}, {"listen", "::"}, {"port", "2"}}));
}

TEST(CommandLine, AnInlineValueMayContainEquals) {
  // "--listen=a=b" is the value "a=b", which is then rejected as an address.
  EXPECT_EQ(usage_error({"--listen=a=b"}),
            "invalid listen address 'a=b' (expected an IPv4 or IPv6 address such as 127.0.0.1 "
            "or ::1)");
}

TEST(CommandLine, ConfigInEveryForm) {
  EXPECT_EQ(parse({"-c", "/x.conf"}).config_path, "/x.conf");
  EXPECT_EQ(parse({"-c/y.conf"}).config_path, "/y.conf");
  EXPECT_EQ(parse({"--config", "/z.conf"}).config_path, "/z.conf");
  EXPECT_EQ(parse({"--config=/w.conf"}).config_path, "/w.conf");
  EXPECT_EQ(parse({"-c", "a", "-c", "b"}).config_path, "b");
  EXPECT_EQ(parse({"-c", "--port"}).config_path, "--port") << "-c takes the next argument as is";
}

TEST(CommandLine, Actions) {
  EXPECT_EQ(parse({"-t"}).action, CommandLine::Action::check_config);
  EXPECT_EQ(parse({"--check-config"}).action, CommandLine::Action::check_config);
  EXPECT_EQ(parse({"-h"}).action, CommandLine::Action::help);
  EXPECT_EQ(parse({"--help"}).action, CommandLine::Action::help);
  EXPECT_EQ(parse({"--version"}).action, CommandLine::Action::version);
  EXPECT_EQ(parse({"-t", "--help"}).action, CommandLine::Action::help);
  EXPECT_EQ(parse({"--help", "-t"}).action, CommandLine::Action::help)
      << "-t does not override help";
  const CommandLine check = parse({"-t", "-c", "/a.conf", "--port=5"});
  EXPECT_EQ(check.action, CommandLine::Action::check_config);
  EXPECT_EQ(check.config_path, "/a.conf");
  EXPECT_EQ(check.settings, (std::vector<Setting>{{"port", "5"}}));
}

TEST(CommandLine, UnknownOptions) {
  EXPECT_EQ(usage_error({"--bogus"}), "unknown option '--bogus'");
  EXPECT_EQ(usage_error({"--bogus=1"}), "unknown option '--bogus=1'");
  EXPECT_EQ(usage_error({"-x"}), "unknown option '-x'");
  EXPECT_EQ(usage_error({"--Port", "1"}), "unknown option '--Port'");
  EXPECT_EQ(usage_error({"--help=yes"}), "unknown option '--help=yes'");
}

TEST(CommandLine, MissingValues) {
  EXPECT_EQ(usage_error({"--port"}), "option '--port' needs a value");
  EXPECT_EQ(usage_error({"--log-level"}), "option '--log-level' needs a value");
  EXPECT_EQ(usage_error({"-c"}), "option '-c' needs a value");
  EXPECT_EQ(usage_error({"--config"}), "option '--config' needs a value");
  EXPECT_NE(usage_error({"--config="}), "");
  EXPECT_EQ(usage_error({"--port="}), "invalid port '' (expected 0-65535)");
}

TEST(CommandLine, UnexpectedPositionalArgument) {
  EXPECT_EQ(usage_error({"8888"}), "unexpected argument '8888'");
  EXPECT_EQ(usage_error({"--port", "1", "extra"}), "unexpected argument 'extra'");
  EXPECT_EQ(usage_error({"-"}), "unexpected argument '-'");
}

TEST(CommandLine, BadValuesNameTheValue) {
  EXPECT_EQ(usage_error({"--port", "99999"}), "invalid port '99999' (expected 0-65535)");
  EXPECT_EQ(usage_error({"--port=99999"}), "invalid port '99999' (expected 0-65535)");
  EXPECT_NE(usage_error({"--max-clients", "0"}), "");
  EXPECT_NE(usage_error({"--max-line", "-1"}), "");
  EXPECT_NE(usage_error({"--max-backlog", "10"}), "");
  EXPECT_NE(usage_error({"--log-level", "chatty"}), "");
  EXPECT_NE(usage_error({"--listen", "localhost"}), "");
  EXPECT_EQ(usage_error({"--allow", "10.0.0.0/8,10.0.0.0/99"}),
            "invalid address range '10.0.0.0/99' (expected an address or CIDR range such as "
            "10.0.0.0/8 or fc00::/7, or any)");
}

TEST(CommandLine, UsageTextListsEveryOption) {
  const std::string usage = usage_text();
  EXPECT_EQ(usage.rfind("Usage: epollchatd", 0), 0u);
  for (const char* option :
       {"--listen", "--port", "-c, --config", "--max-clients", "--max-line", "--max-backlog",
        "--max-rate", "--line-timeout", "--history", "--log-level", "--allow", "-t, --check-config",
        "-h, --help", "--version"}) {
    EXPECT_NE(usage.find(option), std::string::npos) << option;
  }
}

TEST(CommandLine, UsageTextShowsEveryRowOfTheSettingTable) {
  const std::string usage = usage_text();
  for (const SettingSpec& spec : setting_specs()) {
    const std::string option =
        "\n      --" + std::string(spec.key) + " " + std::string(spec.value_name);
    EXPECT_NE(usage.find(option), std::string::npos) << spec.key;
    // Every line of the row's help is there, with the default filled in.
    const std::string help = setting_help(spec);
    std::size_t start = 0;
    while (start < help.size()) {
      const std::size_t end = std::min(help.find('\n', start), help.size());
      const std::string line = help.substr(start, end - start);
      EXPECT_NE(usage.find(line + "\n"), std::string::npos) << spec.key << ": " << line;
      start = end + 1;
    }
  }
}

// --help is read by people and by scripts; its text changes only on purpose.
TEST(CommandLine, UsageTextIsTheDocumentedOne) {
  EXPECT_EQ(usage_text(),
            "Usage: epollchatd [OPTIONS]\n"
            "A chat server with rooms: a client's lines go to the others in its room.\n"
            "\n"
            "Options:\n"
            "      --listen ADDR        address to listen on (default 127.0.0.1; ::1 and :: work)\n"
            "      --port N             TCP port (default 8888; 0 lets the kernel choose)\n"
            "  -c, --config FILE        config file (default " EPOLLCHATD_DEFAULT_CONFIG
            "),\n"
            "                           then the *.conf files of conf.d beside it, by name\n"
            "      --max-clients N      clients served at once (default 1024)\n"
            "      --max-line BYTES     longest accepted line (default 4096)\n"
            "      --max-backlog BYTES  unsent output per client before it is cut off\n"
            "                           (default 1048576)\n"
            "      --max-rate LINES     lines per second per client before reading slows down\n"
            "                           (default 10000; 0: unlimited)\n"
            "      --line-timeout SECS  disconnect a client whose incomplete line waits longer\n"
            "                           (default 60; 0: never)\n"
            "      --history N          chat lines each room keeps for clients that join it\n"
            "                           (default 20; 0: none)\n"
            "      --log-level LEVEL    emerg, alert, crit, err, warning, notice, info, debug\n"
            "                           (default info)\n"
            "      --redis ADDR         share rooms with other nodes through Redis at\n"
            "                           HOST:PORT or /path/to/socket (default: off)\n"
            "      --node-id ID         this node's id in client ids with --redis\n"
            "                           (1-8 of a-z, 0-9; default: random)\n"
            "      --redis-user NAME    log in to Redis as this ACL user (default: default)\n"
            "      --redis-password-file FILE\n"
            "                           Redis's password is the first line of FILE (default:\n"
            "                           the systemd credential redis-password, else none)\n"
            "      --tls-port N         also serve TLS clients on this port of the listen\n"
            "                           address (default: off; 0 lets the kernel choose)\n"
            "      --tls-cert FILE      TLS certificate chain, PEM (default: the systemd\n"
            "                           credential tls-cert)\n"
            "      --tls-key FILE       TLS private key, PEM (default: the systemd\n"
            "                           credential tls-key)\n"
            "      --allow LIST         peers that may connect: addresses and CIDR ranges\n"
            "                           such as 10.0.0.0/8 or fc00::/7, separated by commas\n"
            "                           or spaces, or any (default: loopback, link-local,\n"
            "                           private and ULA ranges, 100.64.0.0/10; TLS: any)\n"
            "  -t, --check-config       check the options and config files, report every\n"
            "                           problem, then exit\n"
            "  -h, --help               show this help and exit\n"
            "      --version            show the version and exit\n"
            "\n"
            "Command-line values override the config files. SIGHUP re-reads them.\n"
            "See epollchatd(8) and epollchatd.conf(5).\n");
}

// ---- The built binary ----

struct Outcome {
  int exit_status = -1;  // -1 unless it exited normally
  std::string out;
  std::string err;
};

// Runs the daemon with `args`; kills it if it has not finished within the guard time.
Outcome run_daemon(const std::vector<std::string>& args) {
  const char* path = std::getenv("EPOLLCHATD");
  if (path == nullptr || *path == '\0')
    throw std::runtime_error("EPOLLCHATD is not set (run through meson test)");
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    test::throw_errno("pipe2");
  std::vector<char*> argv;
  std::string program = path;
  argv.push_back(program.data());
  std::vector<std::string> copies = args;
  for (std::string& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t child = fork();
  if (child < 0) test::throw_errno("fork");
  if (child == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  UniqueFd out_fd(out_pipe[0]);
  UniqueFd err_fd(err_pipe[0]);

  Outcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool killed = false;
  pollfd fds[2] = {{out_fd.get(), POLLIN, 0}, {err_fd.get(), POLLIN, 0}};
  std::string* sinks[2] = {&outcome.out, &outcome.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      kill(child, SIGKILL);
      killed = true;
    }
    if (poll(fds, 2, killed ? 1000 : static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!killed && WIFEXITED(status)) outcome.exit_status = WEXITSTATUS(status);
  return outcome;
}

constexpr int kExUsage = 64;
constexpr int kExConfig = 78;

TEST(DaemonBinary, VersionPrintsTheProjectVersion) {
  const Outcome outcome = run_daemon({"--version"});
  EXPECT_EQ(outcome.exit_status, 0);
  EXPECT_EQ(outcome.out, std::string("epollchatd ") + EPOLLCHAT_VERSION + "\n");
  EXPECT_EQ(outcome.out, "epollchatd 0.1.0\n");
  EXPECT_EQ(outcome.err, "");
}

TEST(DaemonBinary, HelpGoesToStdoutAndExitsZero) {
  for (const char* option : {"-h", "--help"}) {
    const Outcome outcome = run_daemon({option});
    EXPECT_EQ(outcome.exit_status, 0) << option;
    EXPECT_EQ(outcome.out, usage_text()) << option;
    EXPECT_EQ(outcome.err, "") << option;
  }
}

TEST(DaemonBinary, UsageErrorsExit64WithTheMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--bogus"}, "epollchatd: unknown option '--bogus'\n"},
      {{"--port", "99999"}, "epollchatd: invalid port '99999'"},
      {{"--port=99999"}, "epollchatd: invalid port '99999'"},
      {{"--port"}, "epollchatd: option '--port' needs a value\n"},
      {{"stray"}, "epollchatd: unexpected argument 'stray'\n"},
      {{"-t", "--max-clients", "0"}, "epollchatd: invalid value for max-clients '0'"},
  };
  for (const Case& c : cases) {
    const Outcome outcome = run_daemon(c.args);
    EXPECT_EQ(outcome.exit_status, kExUsage) << c.args[0];
    EXPECT_EQ(outcome.err.rfind(c.message, 0), 0u) << "stderr: " << outcome.err;
    EXPECT_NE(outcome.err.find("--help"), std::string::npos) << "a hint at --help follows";
    EXPECT_EQ(outcome.out, "");
  }
}

TEST(DaemonBinary, CheckConfigExitsZeroForAGoodConfig) {
  test::TempDir dir;
  const std::string path = dir.write("good.conf", "# fine\nport = 0\nmax-clients = 5\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-t", "-c", path},
        std::vector<std::string>{"--check-config", "-c" + path},
        std::vector<std::string>{"-t", "--config=" + path}}) {
    const Outcome outcome = run_daemon(args);
    EXPECT_EQ(outcome.exit_status, 0) << outcome.err;
    EXPECT_EQ(outcome.err, "");
  }
}

TEST(DaemonBinary, CheckConfigNeverBinds) {
  // A port already in use does not matter to -t.
  UniqueFd busy = listen_tcp(*SocketAddress::from_numeric("127.0.0.1", 0), 1);
  const std::string port = std::to_string(SocketAddress::local_of(busy.get()).port());
  test::TempDir dir;
  const std::string path = dir.write("empty.conf", "");
  const Outcome outcome = run_daemon({"-t", "-c", path, "--port", port});
  EXPECT_EQ(outcome.exit_status, 0) << outcome.err;
}

TEST(DaemonBinary, BadConfigExits78NamingFileAndLine) {
  test::TempDir dir;
  const std::string path = dir.write("bad.conf", "port = 1\n\nfoo = bar\n");
  for (const bool check_only : {true, false}) {
    std::vector<std::string> args = {"-c", path};
    if (check_only) args.insert(args.begin(), "-t");
    const Outcome outcome = run_daemon(args);
    EXPECT_EQ(outcome.exit_status, kExConfig) << "check only: " << check_only;
    EXPECT_EQ(outcome.err, "epollchatd: " + path + ":3: unknown key 'foo'\n");
  }
}

TEST(DaemonBinary, MissingConfigFileExits78) {
  test::TempDir dir;
  const std::string path = dir.file("absent.conf");
  const Outcome outcome = run_daemon({"-t", "-c", path});
  EXPECT_EQ(outcome.exit_status, kExConfig);
  EXPECT_EQ(outcome.err,
            "epollchatd: cannot read config file " + path + ": No such file or directory\n");
}

TEST(DaemonBinary, InconsistentSettingsExit78) {
  test::TempDir dir;
  const std::string path = dir.write("empty.conf", "");
  const Outcome outcome = run_daemon({"-t", "-c", path, "--max-backlog", "1024"});
  EXPECT_EQ(outcome.exit_status, kExConfig);
  EXPECT_EQ(outcome.err, "epollchatd: max-backlog (1024) must be at least max-line (4096) + 256\n");
}

TEST(DaemonBinary, CommandLineOverridesABadlyValuedFileSetting) {
  // The file's values are checked too, even when the command line sets the same key.
  test::TempDir dir;
  const std::string path = dir.write("bad-port.conf", "port = 99999\n");
  const Outcome outcome = run_daemon({"-t", "-c", path, "--port", "0"});
  EXPECT_EQ(outcome.exit_status, kExConfig);
  EXPECT_EQ(outcome.err.rfind("epollchatd: " + path + ":1: invalid port '99999'", 0), 0u)
      << outcome.err;
}

TEST(DaemonBinary, PortInUseExits1) {
  UniqueFd busy = listen_tcp(*SocketAddress::from_numeric("127.0.0.1", 0), 1);
  const std::string port = std::to_string(SocketAddress::local_of(busy.get()).port());
  test::TempDir dir;
  const std::string path = dir.write("empty.conf", "");
  const Outcome outcome = run_daemon({"-c", path, "--port", port});
  EXPECT_EQ(outcome.exit_status, 1);
  EXPECT_NE(outcome.err.find("epollchatd: cannot listen on 127.0.0.1:" + port +
                             ": Address already in use\n"),
            std::string::npos)
      << outcome.err;
}

}  // namespace
}  // namespace epollchat::daemon
