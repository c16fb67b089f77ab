// A chat line from another node is held to this node's own max-line. Nodes may be configured
// differently: one allows lines of 64 KiB, another 1024 bytes with a backlog of only 8192. A
// 60,000-byte line said on the first must reach the second's members cut to at most 1024
// bytes of text (a prefix of what was said, ending at a UTF-8 character boundary), and must
// not cut anybody off there for a line that node would never have accepted itself.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "cluster/cluster_member.hpp"

namespace epollchat::test {
namespace {

using namespace lines;

constexpr std::size_t kShortMaxLine = 1024;
constexpr std::size_t kLongLine = 60'000;
// A cut at a character boundary gives up at most the 3 bytes of a 4-byte character's start.
constexpr std::size_t kLongestCharacter = 4;

// `unit` repeated after `lead` until the text is kLongLine bytes long at most.
std::string long_text(std::string_view lead, std::string_view unit) {
  std::string text(lead);
  while (text.size() + unit.size() <= kLongLine) text += unit;
  return text;
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// `received`, the text of a chat line, is `said` cut to the short max-line at a boundary.
::testing::AssertionResult is_cut_version_of(std::string_view received, std::string_view said) {
  if (received.size() > kShortMaxLine || received.size() + kLongestCharacter <= kShortMaxLine) {
    return ::testing::AssertionFailure()
           << "got " << received.size() << " bytes of text, expected "
           << kShortMaxLine - kLongestCharacter + 1 << "-" << kShortMaxLine;
  }
  if (!said.starts_with(received)) {
    return ::testing::AssertionFailure() << "got text that is not a prefix of what was said: \""
                                         << escape_bytes(received, 80) << "\"";
  }
  if (is_continuation_byte(said[received.size()])) {
    return ::testing::AssertionFailure()
           << "cut inside a UTF-8 character, after " << received.size() << " bytes";
  }
  return ::testing::AssertionSuccess();
}

TEST(RemoteMaxLine, LongerLinesFromAnotherNodeAreCutToTheLocalMaxLine) {
  Cluster cluster(
      {.nodes = 2,
       .args_by_node = {{"--max-line", "65536", "--max-backlog", "1048576"},
                        {"--max-line", std::to_string(kShortMaxLine), "--max-backlog", "8192"}}});
  Member speaker = join(cluster.port(0));
  Member first = join(cluster.port(1));
  Member second = join(cluster.port(1));
  ASSERT_TRUE(settle_in_lobby({&speaker, &first, &second}));

  // ASCII, 3-byte characters (1024 is not a multiple of 3), and 4-byte characters after
  // two ASCII bytes (so that byte 1024 falls inside one).
  const std::string texts[] = {long_text("", "0123456789"), long_text("", "\u20ac"),
                               long_text("ab", "\U0001F600")};
  for (const std::string& text : texts) {
    speaker.client.send(text + "\n");
    const std::string prefix = says(speaker.name, "");
    for (Member* listener : {&first, &second}) {
      const auto line = listener->client.read_line(kCrossNodeTimeout);
      ASSERT_TRUE(line) << listener->name << " got no line for " << text.size() << " bytes said ("
                        << (listener->client.peer_closed() ? "cut off" : "timed out") << ")";
      ASSERT_TRUE(line->starts_with(prefix))
          << listener->name << ": \"" << escape_bytes(*line) << "\"";
      const std::string_view received = std::string_view(*line).substr(prefix.size());
      EXPECT_TRUE(is_cut_version_of(received, text)) << listener->name;
      std::cout << listener->name << " got " << received.size() << " of " << text.size()
                << " bytes said (" << escape_bytes(text.substr(0, 4), 20) << "...)\n";
    }
  }
  // Both are still there, and got nothing else in between.
  for (Member* listener : {&first, &second}) {
    EXPECT_TRUE(expect_nothing_before_marker(speaker, *listener, "marker", kCrossNodeTimeout))
        << listener->name;
  }
}

}  // namespace
}  // namespace epollchat::test
