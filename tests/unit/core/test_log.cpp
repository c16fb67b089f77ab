// Log: sd-daemon "<N>" prefixes on stderr, one record per write, filtered by level.
#include "core/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace epollchat {
namespace {

// Redirects stderr into a pipe for its lifetime.
class StderrCapture {
 public:
  StderrCapture() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_end_ = fds[0];
    saved_ = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
  }
  ~StderrCapture() {
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(read_end_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  std::string take() {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(read_end_, buffer, sizeof buffer)) > 0;) {
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
  }

 private:
  int read_end_ = -1;
  int saved_ = -1;
};

TEST(Log, PrefixesEachRecordWithItsPriority) {
  StderrCapture capture;
  const Log log(LogLevel::debug);
  log.error("e");
  log.warning("w");
  log.notice("n");
  log.info("i");
  log.debug("d");
  log.write(LogLevel::emerg, "x");
  EXPECT_EQ(capture.take(), "<3>e\n<4>w\n<5>n\n<6>i\n<7>d\n<0>x\n");
}

TEST(Log, DropsRecordsBelowTheLevel) {
  StderrCapture capture;
  Log log(LogLevel::notice);
  EXPECT_TRUE(log.is_enabled(LogLevel::err));
  EXPECT_TRUE(log.is_enabled(LogLevel::notice));
  EXPECT_FALSE(log.is_enabled(LogLevel::info));
  log.info("hidden");
  log.notice("shown");
  log.set_level(LogLevel::info);
  log.info("now shown");
  EXPECT_EQ(capture.take(), "<5>shown\n<6>now shown\n");
}

TEST(Log, DefaultLevelIsInfo) {
  StderrCapture capture;
  const Log log;
  log.debug("hidden");
  log.info("shown");
  EXPECT_EQ(capture.take(), "<6>shown\n");
}

}  // namespace
}  // namespace epollchat
