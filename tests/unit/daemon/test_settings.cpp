// Settings: the table of settings and what comes of it (defaults, bounds, messages), each
// key's values, the checks between keys; and the log level names.
#include <gtest/gtest.h>
#include "core/socket.hpp"
#include "daemon/settings.hpp"

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::daemon {
namespace {

// The problem apply_setting() reports, or "" when the value was taken.
std::string problem_of(Settings& settings, std::string_view key, std::string_view value) {
  return apply_setting(settings, key, value).value_or("");
}

TEST(Settings, DefaultsAreTheDocumentedOnes) {
  const Settings settings;
  EXPECT_EQ(settings.listen, "127.0.0.1");
  EXPECT_EQ(settings.port, 8888);
  EXPECT_EQ(settings.max_clients, 1024u);
  EXPECT_EQ(settings.max_line, 4096u);
  EXPECT_EQ(settings.max_backlog, 1048576u);
  EXPECT_EQ(settings.max_rate, 10000u);
  EXPECT_EQ(settings.line_timeout, std::chrono::seconds(60));
  EXPECT_EQ(settings.log_level, LogLevel::info);
  EXPECT_EQ(settings.redis, "");
  EXPECT_EQ(settings.node_id, "");
  EXPECT_EQ(settings.redis_user, "");
  EXPECT_EQ(settings.redis_password_file, "");
  EXPECT_EQ(settings.redis_password, "");
  EXPECT_FALSE(settings.allow.has_value());
  EXPECT_EQ(check_consistency(settings), std::nullopt);
}

// ---- The table: every row complete, and each thing made from it agrees with it ----

// A valid value for `spec` other than its default.
std::string another_value(const SettingSpec& spec) {
  if (spec.is_number()) {
    return std::to_string(spec.default_value == std::to_string(spec.min) ? spec.max : spec.min);
  }
  static const std::map<std::string_view, std::string> kTextValues = {
      {"listen", "::1"},
      {"log-level", "debug"},
      {"redis", "127.0.0.1:6379"},
      {"node-id", "web1"},
      {"redis-user", "epollchat"},
      {"redis-password-file", "/etc/epollchatd/redis-password"},
      {"tls-port", "6697"},
      {"tls-cert", "/etc/epollchatd/tls/chain.pem"},
      {"tls-key", "/etc/epollchatd/tls/key.pem"},
      {"allow", "10.0.0.0/8, fc00::/7"},
  };
  const auto found = kTextValues.find(spec.key);
  if (found == kTextValues.end()) {
    ADD_FAILURE() << "no sample value for the key '" << spec.key << "'; add one above";
    return "";
  }
  return found->second;
}

TEST(SettingTable, EveryRowIsComplete) {
  std::set<std::string_view> keys;
  for (const SettingSpec& spec : setting_specs()) {
    EXPECT_TRUE(keys.insert(spec.key).second) << "repeated key " << spec.key;
    EXPECT_FALSE(spec.key.empty());
    EXPECT_FALSE(spec.value_name.empty()) << spec.key;
    EXPECT_FALSE(spec.help.empty()) << spec.key;
    EXPECT_NE(spec.store_number == nullptr, spec.store_text == nullptr)
        << spec.key << ": a number or a text, not both";
    if (spec.is_number()) {
      EXPECT_LE(spec.min, spec.max) << spec.key;
      EXPECT_FALSE(spec.default_value.empty()) << spec.key << ": a number has a default";
      EXPECT_TRUE(spec.expected.empty()) << spec.key << ": a number's bounds are its expected";
    } else {
      EXPECT_FALSE(spec.what.empty()) << spec.key;
      EXPECT_FALSE(spec.expected.empty()) << spec.key;
    }
    EXPECT_EQ(find_setting(spec.key), &spec);
  }
  EXPECT_EQ(keys.size(), 17u);
}

TEST(SettingTable, AFreshSettingsHoldsEveryDefault) {
  const Settings fresh;
  for (const SettingSpec& spec : setting_specs()) {
    Settings settings;
    ASSERT_EQ(problem_of(settings, spec.key, another_value(spec)), "") << spec.key;
    EXPECT_NE(settings, fresh) << spec.key << ": another value changes the settings";
    if (spec.default_value.empty()) {
      // Unset: a fresh Settings holds "", which the key accepts unless it needs a value.
      if (apply_setting(settings, spec, "") == std::nullopt) {
        EXPECT_EQ(settings, fresh) << spec.key;
      }
      continue;
    }
    EXPECT_EQ(problem_of(settings, spec.key, spec.default_value), "") << spec.key;
    EXPECT_EQ(settings, fresh) << spec.key << ": the table's default is the fresh value";
  }
}

TEST(SettingTable, NumbersOutsideTheirBoundsAreRefusedNamingTheBounds) {
  for (const SettingSpec& spec : setting_specs()) {
    if (!spec.is_number()) continue;
    const std::string what =
        spec.what.empty() ? "value for " + std::string(spec.key) : std::string(spec.what);
    const std::string bounds = std::to_string(spec.min) + "-" + std::to_string(spec.max);
    Settings settings;
    EXPECT_EQ(problem_of(settings, spec.key, std::to_string(spec.min)), "") << spec.key;
    EXPECT_EQ(problem_of(settings, spec.key, std::to_string(spec.max)), "") << spec.key;
    const Settings at_max = settings;

    std::vector<std::string> outside = {std::to_string(spec.max + 1), "-1"};
    if (spec.min > 0) outside.push_back(std::to_string(spec.min - 1));
    for (const std::string& value : outside) {
      EXPECT_EQ(problem_of(settings, spec.key, value),
                "invalid " + what + " '" + value + "' (expected " + bounds + ")");
    }
    EXPECT_EQ(settings, at_max) << spec.key << ": refused values change nothing";
  }
}

TEST(SettingTable, HelpShowsTheDefault) {
  for (const SettingSpec& spec : setting_specs()) {
    const std::string help = setting_help(spec);
    EXPECT_EQ(help.find("{default}"), std::string::npos) << spec.key;
    if (spec.default_value.empty()) {
      EXPECT_NE(help.find("default:"), std::string::npos)
          << spec.key << ": the help says what happens when it is not set";
    } else {
      EXPECT_NE(help.find("(default " + std::string(spec.default_value)), std::string::npos)
          << spec.key << ": " << help;
    }
  }
}

TEST(Settings, KeysAreTheLongOptionNames) {
  for (const char* key :
       {"listen", "port", "max-clients", "max-line", "max-backlog", "max-rate", "line-timeout",
        "history", "log-level", "redis", "node-id", "redis-user", "redis-password-file"}) {
    EXPECT_NE(find_setting(key), nullptr) << key;
  }
  for (const char* key : {"", "config", "check-config", "help", "version", "Port", "max_line"}) {
    EXPECT_EQ(find_setting(key), nullptr) << key;
  }
}

TEST(Settings, Listen) {
  Settings settings;
  for (const char* good : {"0.0.0.0", "::1", "::", "[::1]", "192.168.1.20"}) {
    EXPECT_EQ(problem_of(settings, "listen", good), "") << good;
    EXPECT_EQ(settings.listen, good);
  }
  EXPECT_EQ(problem_of(settings, "listen", "localhost"),
            "invalid listen address 'localhost' (expected an IPv4 or IPv6 address such as "
            "127.0.0.1 or ::1)");
  EXPECT_NE(problem_of(settings, "listen", "1.2.3"), "");
  EXPECT_NE(problem_of(settings, "listen", ""), "");
  EXPECT_EQ(settings.listen, "192.168.1.20") << "a rejected value changes nothing";
}

TEST(Settings, Port) {
  Settings settings;
  EXPECT_EQ(problem_of(settings, "port", "0"), "");
  EXPECT_EQ(settings.port, 0);
  EXPECT_EQ(problem_of(settings, "port", "65535"), "");
  EXPECT_EQ(settings.port, 65535);
  EXPECT_EQ(problem_of(settings, "port", "99999"), "invalid port '99999' (expected 0-65535)");
  EXPECT_EQ(problem_of(settings, "port", "65536"), "invalid port '65536' (expected 0-65535)");
  for (const char* bad : {"", "-1", "+80", "80x", " 80", "0x50", "8888888888888888888888"}) {
    EXPECT_NE(problem_of(settings, "port", bad), "") << "'" << bad << "'";
  }
  EXPECT_EQ(settings.port, 65535);
}

TEST(Settings, CountsWithTheirRanges) {
  struct Case {
    const char* key;
    std::size_t Settings::*field;
    std::size_t min;
    std::size_t max;
  };
  for (const Case& c : {Case{"max-clients", &Settings::max_clients, 1, 1'000'000},
                        Case{"max-line", &Settings::max_line, 1, 16 * 1024 * 1024},
                        Case{"max-backlog", &Settings::max_backlog, 1024, std::size_t{1} << 30},
                        Case{"max-rate", &Settings::max_rate, 0, 100'000'000}}) {
    Settings settings;
    EXPECT_EQ(problem_of(settings, c.key, std::to_string(c.min)), "") << c.key;
    EXPECT_EQ(settings.*c.field, c.min);
    EXPECT_EQ(problem_of(settings, c.key, std::to_string(c.max)), "") << c.key;
    EXPECT_EQ(settings.*c.field, c.max);
    if (c.min > 0) {
      const std::string below = std::to_string(c.min - 1);
      EXPECT_EQ(problem_of(settings, c.key, below),
                "invalid value for " + std::string(c.key) + " '" + below + "' (expected " +
                    std::to_string(c.min) + "-" + std::to_string(c.max) + ")");
    }
    EXPECT_NE(problem_of(settings, c.key, std::to_string(c.max + 1)), "") << c.key;
    for (const char* bad : {"", "-5", "12k", "1e3", "ten"}) {
      EXPECT_NE(problem_of(settings, c.key, bad), "") << c.key << " '" << bad << "'";
    }
    EXPECT_EQ(settings.*c.field, c.max) << "rejected values change nothing";
  }
}

TEST(Settings, HistoryIsLinesUpToAThousandAndReachesTheServer) {
  Settings settings;
  EXPECT_EQ(settings.history, 20U);
  EXPECT_EQ(settings.server_limits().history, 20U);
  EXPECT_EQ(problem_of(settings, "history", "0"), "");
  EXPECT_EQ(settings.server_limits().history, 0U);
  EXPECT_EQ(problem_of(settings, "history", "1000"), "");
  EXPECT_EQ(settings.server_limits().history, 1000U);
  EXPECT_EQ(problem_of(settings, "history", "1001"),
            "invalid value for history '1001' (expected 0-1000)");
  for (const char* bad : {"", "-5", "20 lines", "1e3", "many"}) {
    EXPECT_NE(problem_of(settings, "history", bad), "") << "'" << bad << "'";
  }
  EXPECT_EQ(settings.history, 1000U) << "rejected values change nothing";
}

TEST(Settings, LineTimeoutIsSecondsUpToADay) {
  Settings settings;
  EXPECT_EQ(problem_of(settings, "line-timeout", "0"), "");
  EXPECT_EQ(settings.line_timeout, std::chrono::seconds::zero());
  EXPECT_EQ(problem_of(settings, "line-timeout", "86400"), "");
  EXPECT_EQ(settings.line_timeout, std::chrono::hours(24));
  EXPECT_EQ(settings.server_limits().line_timeout, std::chrono::hours(24));
  EXPECT_EQ(problem_of(settings, "line-timeout", "86401"),
            "invalid value for line-timeout '86401' (expected 0-86400)");
  for (const char* bad : {"", "-5", "60s", "1m", "1e3"}) {
    EXPECT_NE(problem_of(settings, "line-timeout", bad), "") << "'" << bad << "'";
  }
  EXPECT_EQ(settings.line_timeout, std::chrono::hours(24)) << "rejected values change nothing";
}

TEST(Settings, RedisPasswordFileIsAnAbsolutePathOrNothing) {
  Settings settings;
  EXPECT_EQ(problem_of(settings, "redis-password-file", "/etc/epollchatd/redis-password"), "");
  EXPECT_EQ(settings.redis_password_file, "/etc/epollchatd/redis-password");
  EXPECT_EQ(problem_of(settings, "redis-password-file", "redis-password"),
            "invalid redis password file 'redis-password' (expected an absolute path)");
  EXPECT_EQ(settings.redis_password_file, "/etc/epollchatd/redis-password");
  EXPECT_EQ(problem_of(settings, "redis-password-file", ""), "");
  EXPECT_EQ(settings.redis_password_file, "");
}

TEST(Settings, RedisUserIsPrintableWithoutSpaces) {
  Settings settings;
  EXPECT_EQ(problem_of(settings, "redis-user", "epollchat"), "");
  EXPECT_EQ(settings.redis_user, "epollchat");
  EXPECT_EQ(problem_of(settings, "redis-user", std::string(64, 'u')), "");
  for (const std::string& bad :
       std::vector<std::string>{"two words", std::string(65, 'u'), "tab\there"}) {
    EXPECT_EQ(
        problem_of(settings, "redis-user", bad),
        "invalid redis user '" + bad + "' (expected up to 64 printable characters, no spaces)")
        << bad;
  }
  EXPECT_EQ(settings.redis_user, std::string(64, 'u'));
  EXPECT_EQ(problem_of(settings, "redis-user", ""), "");
  EXPECT_EQ(settings.redis_user, "");
}

// ---- allow ----

SocketAddress peer(std::string_view host) {
  return SocketAddress::from_numeric(host, 4242).value_or(SocketAddress());
}

TEST(Settings, AllowUnsetAdmitsLocalNetworksInClearTextAndEveryoneOverTls) {
  const chat::ServerLimits limits = Settings().server_limits();
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "169.254.1.1", "fe80::1", "10.1.1.1",
                           "172.16.0.1", "172.31.255.254", "192.168.1.1", "fd00::1", "fc00::1",
                           "100.64.0.1", "100.127.255.254", "::ffff:192.168.1.1"}) {
    EXPECT_TRUE(limits.allowed.contains(peer(host))) << host;
  }
  for (const char* host : {"203.0.113.5", "2001:db8::1", "172.32.0.1", "100.128.0.1", "8.8.8.8",
                           "::ffff:203.0.113.5", "::"}) {
    EXPECT_FALSE(limits.allowed.contains(peer(host))) << host;
  }
  EXPECT_TRUE(limits.tls_allowed.contains_everything());
}

TEST(Settings, AllowSetAppliesToBothListeners) {
  Settings settings;
  ASSERT_EQ(problem_of(settings, "allow", "127.0.0.2/32 2001:db8::/32"), "");
  const chat::ServerLimits limits = settings.server_limits();
  EXPECT_EQ(limits.allowed, limits.tls_allowed);
  EXPECT_TRUE(limits.allowed.contains(peer("127.0.0.2")));
  EXPECT_TRUE(limits.allowed.contains(peer("2001:db8::7")));
  EXPECT_FALSE(limits.allowed.contains(peer("127.0.0.1")));
  EXPECT_FALSE(limits.tls_allowed.contains(peer("192.168.1.1")));

  ASSERT_EQ(problem_of(settings, "allow", "any"), "");
  EXPECT_TRUE(settings.server_limits().allowed.contains_everything());
  EXPECT_TRUE(settings.server_limits().tls_allowed.contains_everything());
}

TEST(Settings, AllowRefusalNamesTheBadEntry) {
  Settings settings;
  ASSERT_EQ(problem_of(settings, "allow", "10.0.0.0/8"), "");
  const Settings before = settings;
  const std::string expected =
      " (expected an address or CIDR range such as 10.0.0.0/8 or fc00::/7, or any)";
  EXPECT_EQ(problem_of(settings, "allow", "192.168.0.0/16, 10.0.0.0/33"),
            "invalid address range '10.0.0.0/33'" + expected);
  EXPECT_EQ(problem_of(settings, "allow", "localhost"),
            "invalid address range 'localhost'" + expected);
  EXPECT_EQ(problem_of(settings, "allow", ""), "invalid address range ''" + expected);
  EXPECT_EQ(settings, before) << "refused values change nothing";
}

TEST(Settings, LogLevel) {
  Settings settings;
  EXPECT_EQ(problem_of(settings, "log-level", "debug"), "");
  EXPECT_EQ(settings.log_level, LogLevel::debug);
  EXPECT_EQ(problem_of(settings, "log-level", "3"), "");
  EXPECT_EQ(settings.log_level, LogLevel::err);
  EXPECT_EQ(problem_of(settings, "log-level", "verbose"),
            "invalid log level 'verbose' (expected emerg, alert, crit, err, warning, notice, info "
            "or debug)");
}

TEST(Settings, UnknownKeyIsReportedNotIgnored) {
  Settings settings;
  EXPECT_EQ(problem_of(settings, "colour", "blue"), "unknown key 'colour'");
}

TEST(Settings, BacklogMustHoldOneMaximalLine) {
  Settings settings;
  settings.max_line = 4096;
  settings.max_backlog = 4096 + 256;
  EXPECT_EQ(check_consistency(settings), std::nullopt);
  settings.max_backlog = 4096 + 255;
  EXPECT_EQ(check_consistency(settings),
            "max-backlog (4351) must be at least max-line (4096) + 256");
}

TEST(LogLevelNames, ParseEveryNameAndDigit) {
  const char* names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(parse_log_level(names[i]), static_cast<LogLevel>(i)) << names[i];
    const std::string digit(1, static_cast<char>('0' + i));
    EXPECT_EQ(parse_log_level(digit), static_cast<LogLevel>(i)) << digit;
  }
  for (const char* bad : {"", "8", "-1", "07", "INFO", "warn", "error", "info "}) {
    EXPECT_EQ(parse_log_level(bad), std::nullopt) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace epollchat::daemon
