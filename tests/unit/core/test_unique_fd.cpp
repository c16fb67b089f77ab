// UniqueFd: exactly one owner, one close().
#include "core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <utility>

namespace epollchat {
namespace {

bool is_open_fd(int fd) { return fcntl(fd, F_GETFD) != -1; }

int open_null() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFd, DefaultHoldsNothing) {
  UniqueFd fd;
  EXPECT_FALSE(fd);
  EXPECT_FALSE(fd.is_open());
  EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, ClosesOnDestruction) {
  int raw = -1;
  {
    UniqueFd fd(open_null());
    raw = fd.get();
    ASSERT_TRUE(fd);
    EXPECT_TRUE(is_open_fd(raw));
  }
  EXPECT_FALSE(is_open_fd(raw));
}

TEST(UniqueFd, MoveTransfersOwnership) {
  UniqueFd first(open_null());
  const int raw = first.get();
  UniqueFd second(std::move(first));
  EXPECT_EQ(second.get(), raw);
  EXPECT_FALSE(first);  // NOLINT: moved-from is documented to be empty
  UniqueFd third;
  third = std::move(second);
  EXPECT_EQ(third.get(), raw);
  EXPECT_TRUE(is_open_fd(raw));
}

TEST(UniqueFd, MoveAssignmentClosesTheOldFd) {
  UniqueFd target(open_null());
  const int old = target.get();
  UniqueFd source(open_null());
  target = std::move(source);
  EXPECT_FALSE(is_open_fd(old));
  EXPECT_TRUE(target);
}

TEST(UniqueFd, ReleaseGivesUpOwnershipWithoutClosing) {
  UniqueFd fd(open_null());
  const int raw = fd.release();
  EXPECT_FALSE(fd);
  EXPECT_TRUE(is_open_fd(raw));
  close(raw);
}

TEST(UniqueFd, ResetClosesAndAdopts) {
  UniqueFd fd(open_null());
  const int old = fd.get();
  const int next = open_null();
  fd.reset(next);
  EXPECT_FALSE(is_open_fd(old));
  EXPECT_EQ(fd.get(), next);
  fd.reset();
  EXPECT_FALSE(is_open_fd(next));
  EXPECT_FALSE(fd);
}

}  // namespace
}  // namespace epollchat
