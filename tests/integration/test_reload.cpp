// Reload on SIGHUP: the config file is re-read and max-line applied live, with
// RELOADING=1 (and MONOTONIC_USEC=) then READY=1; connected clients stay connected; a broken
// file keeps the old settings and the daemon up; STATUS= keeps its counts, and says what
// the reload could not apply.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "support/daemon_process.hpp"
#include "support/member.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

class Reload : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(a_.client.expect_line(lines::joined(b_.id, 2))); }

  // The port comes from the file, not the command line, so that a reload sees it change.
  static DaemonOptions with_port_in_file() {
    DaemonOptions options;
    options.port.reset();
    options.config_text = "# test config\nport = 0\nmax-line = 100\n";
    return options;
  }

  // Sends SIGHUP and waits for RELOADING=1 (with MONOTONIC_USEC=) and then READY=1, whose
  // STATUS= it stores in ready_status_.
  void reload() {
    daemon_.send_signal(SIGHUP);
    const auto reloading = daemon_.notify().wait_for("RELOADING=1", 5s);
    ASSERT_TRUE(reloading.has_value()) << "no RELOADING=1 after SIGHUP";
    const auto monotonic = reloading->field("MONOTONIC_USEC");
    ASSERT_TRUE(monotonic.has_value())
        << "RELOADING=1 without MONOTONIC_USEC=: " << reloading->text;
    EXPECT_GT(std::stoull(*monotonic), 0ULL);
    const auto ready = daemon_.notify().wait_for("READY=1", 5s);
    ASSERT_TRUE(ready.has_value()) << "no READY=1 after RELOADING=1";
    EXPECT_TRUE(ready->field("STATUS").has_value()) << "READY=1 without STATUS=: " << ready->text;
    ready_status_ = ready->field("STATUS").value_or("");
  }

  // Waits for the STATUS= that counts `online` clients; returns it ("" if none came).
  std::string wait_for_counts(const std::string& online) {
    const auto status = daemon_.notify().wait_for(
        [&](const NotifyMessage& message) {
          return message.field("STATUS").value_or("").starts_with(online + " clients online");
        },
        5s);
    return status ? status->field("STATUS").value_or("") : "";
  }

  std::string ready_status_;

  DaemonProcess daemon_{with_port_in_file()};
  Member a_ = join(daemon_.port());
  Member b_ = join(daemon_.port());
};

TEST_F(Reload, LoweredMaxLineAppliesLiveAndClientsStay) {
  const std::string eighty(80, 'e');
  a_.client.send(eighty + "\n");
  ASSERT_TRUE(b_.client.expect_line(lines::says(a_.id, eighty)));

  daemon_.write_config("# test config\nport = 0\nmax-line = 50\n");
  ASSERT_NO_FATAL_FAILURE(reload());

  a_.client.send(eighty + "\n");
  EXPECT_TRUE(a_.client.expect_line(lines::line_too_long(50)));
  const std::string fifty(50, 'f');
  a_.client.send(fifty + "\n");
  // b's next line is the 50-byte one: the 80-byte line went nowhere, and both stayed connected.
  EXPECT_TRUE(b_.client.expect_line(lines::says(a_.id, fifty)));
  b_.client.send("still here\n");
  EXPECT_TRUE(a_.client.expect_line(lines::says(b_.id, "still here")));
}

TEST_F(Reload, BrokenFileKeepsOldSettingsAndDaemonUp) {
  daemon_.write_config("port = 0\nmax-line = 50\n");
  ASSERT_NO_FATAL_FAILURE(reload());

  daemon_.write_config("port = 0\nmax-line = 20\nthis is not a setting\n");
  daemon_.send_signal(SIGHUP);
  const std::string location = daemon_.config_path().string() + ":3:";
  EXPECT_TRUE(daemon_.wait_for_stderr(location, 5s))
      << "the failed reload was not logged with file and line (" << location << ")";
  EXPECT_TRUE(daemon_.notify().wait_for("RELOADING=1", 5s).has_value());
  EXPECT_TRUE(daemon_.notify().wait_for("READY=1", 5s).has_value())
      << "no READY=1 to end the failed reload";

  // Still max-line 50, not 20 and not back to 100.
  const std::string thirty(30, 't');
  a_.client.send(thirty + "\n");
  EXPECT_TRUE(b_.client.expect_line(lines::says(a_.id, thirty)));
  a_.client.send(std::string(51, 'x') + "\n");
  EXPECT_TRUE(a_.client.expect_line(lines::line_too_long(50)));
  EXPECT_FALSE(daemon_.has_exited());
  Member c = join(daemon_.port());
  EXPECT_TRUE(a_.client.expect_line(lines::joined(c.id, 3)));
}

TEST_F(Reload, TheStatusLineKeepsItsCounts) {
  const std::string counts = wait_for_counts("2");
  ASSERT_NE(counts, "") << "no STATUS= counting the two clients";
  ASSERT_NO_FATAL_FAILURE(reload());
  EXPECT_EQ(ready_status_, counts) << "the reload replaced the counts";
}

TEST_F(Reload, WhatTakesARestartIsLoggedAndShownInTheStatusLine) {
  const std::string counts = wait_for_counts("2");
  ASSERT_NE(counts, "");
  // Nothing listens on port 1 of loopback, and the daemon must not try.
  daemon_.write_config("port = 1\nmax-line = 50\nredis = 127.0.0.1:1\n");
  ASSERT_NO_FATAL_FAILURE(reload());
  EXPECT_TRUE(daemon_.wait_for_stderr("reload: restart needed for: port, redis", 5s))
      << daemon_.stderr_text();
  EXPECT_EQ(ready_status_, counts + "; restart needed for: port, redis");

  // What could be applied was; the old port still serves; later counts keep the note.
  a_.client.send(std::string(60, 'x') + "\n");
  EXPECT_TRUE(a_.client.expect_line(lines::line_too_long(50)));
  Member c = join(daemon_.port());
  const auto three = daemon_.notify().wait_for(
      [](const NotifyMessage& message) {
        return message.field("STATUS").value_or("").starts_with("3 clients online");
      },
      5s);
  ASSERT_TRUE(three.has_value()) << "no STATUS= counting the third client";
  EXPECT_TRUE(three->field("STATUS").value_or("").ends_with("; restart needed for: port, redis"))
      << three->text;

  // Back to what runs: nothing is pending any more.
  daemon_.write_config("port = 0\nmax-line = 50\n");
  ASSERT_NO_FATAL_FAILURE(reload());
  EXPECT_EQ(ready_status_.find("restart needed"), std::string::npos) << ready_status_;
}

}  // namespace
}  // namespace epollchat::test
