// Log: sd-daemon "<N>" prefixes on stderr when it is the journal, plain lines otherwise,
// one record per write, filtered by level; and the decision between the two.
#include "core/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
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

// Sets the process's log format for one test and puts back the one before.
class FormatForTest {
 public:
  explicit FormatForTest(LogFormat format) : saved_(Log::format()) { Log::set_format(format); }
  ~FormatForTest() { Log::set_format(saved_); }
  FormatForTest(const FormatForTest&) = delete;
  FormatForTest& operator=(const FormatForTest&) = delete;

 private:
  LogFormat saved_;
};

std::string device_and_inode(const struct stat& info) {
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

TEST(Log, JournalFormatPrefixesEachRecordWithItsPriority) {
  const FormatForTest journal(LogFormat::journal);
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

TEST(Log, JournalFormatPrefixesEveryLineOfARecord) {
  const FormatForTest journal(LogFormat::journal);
  StderrCapture capture;
  const Log log;
  log.error("first\nsecond");
  EXPECT_EQ(capture.take(), "<3>first\n<3>second\n");
}

TEST(Log, PlainFormatWritesTheLinesAlone) {
  const FormatForTest plain(LogFormat::plain);
  StderrCapture capture;
  const Log log(LogLevel::debug);
  log.error("e");
  log.info("i");
  log.debug("two\nlines");
  EXPECT_EQ(capture.take(), "e\ni\ntwo\nlines\n");
}

TEST(Log, PlainUntilTheProcessSaysOtherwise) { EXPECT_EQ(Log::format(), LogFormat::plain); }

TEST(Log, DropsRecordsBelowTheLevel) {
  const FormatForTest journal(LogFormat::journal);
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
  const FormatForTest journal(LogFormat::journal);
  StderrCapture capture;
  const Log log;
  log.debug("hidden");
  log.info("shown");
  EXPECT_EQ(capture.take(), "<6>shown\n");
}

TEST(JournalStream, NamesTheStreamWithThatDeviceAndInode) {
  EXPECT_TRUE(names_stream("8:1234", 8, 1234));
  EXPECT_TRUE(names_stream("0:18446744073709551615", 0, static_cast<ino_t>(-1)));
  EXPECT_FALSE(names_stream("8:1234", 8, 1235));
  EXPECT_FALSE(names_stream("8:1234", 9, 1234));
  EXPECT_FALSE(names_stream("1234:8", 8, 1234));
}

TEST(JournalStream, AnythingButTwoDecimalsNamesNothing) {
  for (const char* text :
       {"", ":", "8", "8:", ":1234", "8:1234:", "8:1234 ", " 8:1234", "+8:1234", "8:+1234",
        "-8:1234", "0x8:1234", "8;1234", "8:12a4", "8:99999999999999999999999"}) {
    EXPECT_FALSE(names_stream(text, 8, 1234)) << '"' << text << '"';
  }
}

TEST(JournalStream, StderrIsTheJournalOnlyWhenTheVariableNamesIt) {
  StderrCapture capture;  // stderr is now a pipe of this test's own
  struct stat info {};
  ASSERT_EQ(fstat(STDERR_FILENO, &info), 0);
  EXPECT_EQ(stderr_log_format(device_and_inode(info).c_str()), LogFormat::journal);
  EXPECT_EQ(stderr_log_format(nullptr), LogFormat::plain);
  EXPECT_EQ(stderr_log_format(""), LogFormat::plain);
  // Set, but for another stream: a process that inherited the variable with a new stderr.
  struct stat other = info;
  other.st_ino += 1;
  EXPECT_EQ(stderr_log_format(device_and_inode(other).c_str()), LogFormat::plain);
}

}  // namespace
}  // namespace epollchat
