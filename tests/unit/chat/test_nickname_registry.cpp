// NicknameRegistry: one holder per nickname whatever its case, a holder keeps its entry when
// it changes only the case, and only the holder can free a name.
#include "chat/nickname_registry.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>

namespace epollchat::chat {
namespace {

TEST(NicknameRegistry, NobodyHoldsANameAtFirst) {
  const NicknameRegistry registry;
  EXPECT_EQ(registry.holder("alice"), 0U);
  EXPECT_FALSE(registry.is_held_by_other("alice", 1));
  EXPECT_EQ(registry.size(), 0U);
}

TEST(NicknameRegistry, ANameIsHeldWhateverItsCase) {
  NicknameRegistry registry;
  ASSERT_TRUE(registry.take("Alice", 7));
  EXPECT_EQ(registry.holder("alice"), 7U);
  EXPECT_EQ(registry.holder("ALICE"), 7U);
  EXPECT_TRUE(registry.is_held_by_other("aLiCe", 8));
  EXPECT_FALSE(registry.is_held_by_other("alice", 7));
}

TEST(NicknameRegistry, AnotherSessionCannotTakeAHeldName) {
  NicknameRegistry registry;
  ASSERT_TRUE(registry.take("bob", 1));
  EXPECT_FALSE(registry.take("BOB", 2));
  EXPECT_EQ(registry.holder("bob"), 1U);
  EXPECT_EQ(registry.size(), 1U);
}

TEST(NicknameRegistry, TheHolderMayTakeItsNameAgainInAnotherCase) {
  NicknameRegistry registry;
  ASSERT_TRUE(registry.take("carol", 3));
  EXPECT_TRUE(registry.take("Carol", 3));
  EXPECT_EQ(registry.holder("CAROL"), 3U);
  EXPECT_EQ(registry.size(), 1U);
}

TEST(NicknameRegistry, OnlyTheHolderFreesAName) {
  NicknameRegistry registry;
  ASSERT_TRUE(registry.take("dave", 4));
  registry.release("Dave", 5);
  EXPECT_EQ(registry.holder("dave"), 4U);
  registry.release("DAVE", 4);
  EXPECT_EQ(registry.holder("dave"), 0U);
  EXPECT_EQ(registry.size(), 0U);
  EXPECT_TRUE(registry.take("dave", 5));
}

TEST(NicknameRegistry, ListsEveryEntryInLowerCase) {
  NicknameRegistry registry;
  ASSERT_TRUE(registry.take("Erin", 1));
  ASSERT_TRUE(registry.take("frank", 2));
  std::map<std::string, std::uint64_t> seen;
  registry.for_each(
      [&seen](std::string_view name, std::uint64_t id) { seen[std::string(name)] = id; });
  EXPECT_EQ(seen, (std::map<std::string, std::uint64_t>{{"erin", 1}, {"frank", 2}}));
}

}  // namespace
}  // namespace epollchat::chat
