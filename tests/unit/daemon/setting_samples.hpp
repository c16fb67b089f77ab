// Sample values for the settings table's keys, shared by the tests that feed every key
// through the command line and the config file.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "daemon/settings.hpp"

namespace epollchat::daemon {

// A valid value for every setting: its default, or a sample for those without one.
inline std::string valid_value(const SettingSpec& spec) {
  if (!spec.default_value.empty()) return std::string(spec.default_value);
  if (spec.key == "node-id") return "web1";
  if (spec.key == "redis") return "127.0.0.1:6379";
  if (spec.key == "redis-user") return "epollchat";
  if (spec.key == "redis-password-file") return "/etc/epollchatd/redis-password";
  if (spec.key == "tls-port") return "6697";
  if (spec.key == "tls-cert") return "/etc/epollchatd/tls/chain.pem";
  if (spec.key == "tls-key") return "/etc/epollchatd/tls/key.pem";
  if (spec.key == "allow") return "10.0.0.0/8, fc00::/7 127.0.0.1";
  ADD_FAILURE() << "no sample value for the key '" << spec.key << "'; add one above";
  return "";
}

}  // namespace epollchat::daemon
