// What the interactive tests share: a fixture that needs tmux, and epollchat started on a
// TmuxScreen against a port (NO_COLOR set, so the screen text is the whole story).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client_harness.hpp"
#include "tmux_screen.hpp"

namespace epollchat::test {

class InteractiveTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    if (tmux_is_available()) return;
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string_view(ci) == "true") {
      GTEST_FAIL() << "tmux is needed for the interactive client tests and is not installed "
                      "(tools/install-deps installs it)";
    }
    GTEST_SKIP() << "tmux is not installed";
  }

  static std::unique_ptr<TmuxScreen> start_client(std::uint16_t port,
                                                  std::vector<std::string> extra_args = {},
                                                  std::vector<std::string> env = {"NO_COLOR=1"}) {
    std::vector<std::string> command = {client_path()};
    command.insert(command.end(), extra_args.begin(), extra_args.end());
    command.push_back("127.0.0.1");
    command.push_back(std::to_string(port));
    return std::make_unique<TmuxScreen>(command, 100, 30, env);
  }
};

}  // namespace epollchat::test
