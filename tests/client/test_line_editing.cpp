// The input line on a real terminal (a tmux pane): chat arriving while one types is printed
// above the half-typed line, which stays intact; editing keys, history and Tab completion;
// no key's escape sequence reaches the server; a resize redraws.
#include <gtest/gtest.h>

#include "interactive_test.hpp"
#include "support/chat_client.hpp"
#include "support/daemon_process.hpp"
#include "support/protocol_lines.hpp"

namespace epollchat::test {
namespace {

// A daemon, an observer connected first (Client #1) and the client on a terminal
// (Client #2), named bob.
class LineEditingTest : public InteractiveTest {
 protected:
  void SetUp() override {
    InteractiveTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(observer_.expect_line(lines::welcome(1)));
    screen_ = start_client(daemon_.port());
    ASSERT_TRUE(screen_->wait_for_last_line("[lobby] Client #2>"));
    ASSERT_TRUE(observer_.expect_line(lines::joined(2, 2)));
    screen_->type("/nick bob");
    screen_->press({"Enter"});
    ASSERT_TRUE(screen_->wait_for_last_line("[lobby] bob>"));
    ASSERT_TRUE(observer_.expect_line(lines::known_as("Client #2", "bob")));
  }

  // Sends `keys`, then Enter, and expects the observer's next line to be bob saying `text`.
  void expect_sent(const std::vector<std::string>& keys, std::string_view text) {
    screen_->press(keys);
    screen_->press({"Enter"});
    EXPECT_TRUE(observer_.expect_line(lines::says("bob", text)));
  }

  DaemonProcess daemon_;
  ChatClient observer_{daemon_.port()};
  std::unique_ptr<TmuxScreen> screen_;
};

TEST_F(LineEditingTest, ALineArrivingWhileTypingIsShownAboveTheHalfTypedLine) {
  screen_->type("half a li");
  ASSERT_TRUE(screen_->wait_for_last_line("[lobby] bob> half a li"));

  observer_.send("hello while you type\n");

  ASSERT_TRUE(screen_->wait_for(lines::says(1, "hello while you type")));
  EXPECT_TRUE(screen_->wait_for_last_line("[lobby] bob> half a li"));
  const std::string shown = screen_->screen();
  EXPECT_LT(shown.find(lines::says(1, "hello while you type")), shown.find("[lobby] bob> half"))
      << shown;
  // The line goes on where it was left off.
  screen_->type("ne");
  screen_->press({"Enter"});
  EXPECT_TRUE(observer_.expect_line(lines::says("bob", "half a line")));
}

TEST_F(LineEditingTest, UpRecallsAndLeftInsertEnterSendsTheEditedText) {
  screen_->type("first line");
  expect_sent({}, "first line");
  screen_->press({"Up"});
  ASSERT_TRUE(screen_->wait_for_last_line("[lobby] bob> first line"));
  screen_->press({"Left", "Left", "Left", "Left"});
  screen_->type("X");
  expect_sent({}, "first Xline");
  // Up twice reaches the older line; Down comes back to the newer one.
  screen_->press({"Up", "Up", "Down"});
  ASSERT_TRUE(screen_->wait_for_last_line("[lobby] bob> first Xline"));
  expect_sent({}, "first Xline");
}

TEST_F(LineEditingTest, ArrowAndFunctionKeysSendNothing) {
  screen_->press({"Up", "Down", "Left", "Right", "Home", "End", "PageUp", "F5", "DC", "F12",
                  "C-Right", "Insert", "Enter"});
  screen_->type("marker");
  screen_->press({"Enter"});
  // The marker is the first thing the server relayed: no key became a line of its own.
  EXPECT_TRUE(observer_.expect_line(lines::says("bob", "marker")));
}

TEST_F(LineEditingTest, EditingKeysWorkOverUtf8Text) {
  screen_->type("h\xc3\xa9llo w\xc3\xb6rld");
  screen_->press({"BSpace", "C-w"});
  screen_->type("w\xc3\xa9");
  screen_->press({"Home"});
  screen_->type(">");
  screen_->press({"End"});
  screen_->type("!");
  expect_sent({}, ">h\xc3\xa9llo w\xc3\xa9!");

  screen_->type("abc def");
  screen_->press({"C-a", "C-k"});
  screen_->type("x");
  screen_->press({"C-e"});
  screen_->type("y");
  expect_sent({}, "xy");

  screen_->type("abc def");
  screen_->press({"Left", "Left", "Left", "C-u"});
  screen_->type("1");
  screen_->press({"DC"});
  expect_sent({}, "1ef");
}

TEST_F(LineEditingTest, TabCompletesCommandsAndTheNicknamesOfTheLastWho) {
  observer_.send("/nick alice\n");
  ASSERT_TRUE(observer_.skip_until_line(lines::now_known_as("alice")));
  screen_->type("/wh");
  screen_->press({"Tab"});
  ASSERT_TRUE(screen_->wait_for_last_line("[lobby] bob> /who"));
  screen_->press({"Enter"});
  ASSERT_TRUE(screen_->wait_for("*** 2 online: alice, bob"));

  screen_->type("/ms");
  screen_->press({"Tab"});
  screen_->type("al");
  screen_->press({"Tab"});
  ASSERT_TRUE(screen_->wait_for_last_line("[lobby] bob> /msg alice"));
  screen_->type("psst");
  screen_->press({"Enter"});
  EXPECT_TRUE(observer_.skip_until_line(lines::whispers("bob", "psst")));
}

TEST_F(LineEditingTest, AResizeRedrawsTheInputLine) {
  screen_->type("still here");
  ASSERT_TRUE(screen_->wait_for_last_line("[lobby] bob> still here"));
  screen_->resize(60, 20);
  observer_.send("after the resize\n");
  ASSERT_TRUE(screen_->wait_for(lines::says(1, "after the resize")));
  EXPECT_TRUE(screen_->wait_for_last_line("[lobby] bob> still here"));
  screen_->press({"Enter"});
  EXPECT_TRUE(observer_.expect_line(lines::says("bob", "still here")));
}

TEST_F(LineEditingTest, ThePromptFollowsTheRoom) {
  screen_->type("/join den");
  screen_->press({"Enter"});
  EXPECT_TRUE(screen_->wait_for_last_line("[den] bob>"));
}

// Notices are dim where the terminal has colours, and nothing is coloured with NO_COLOR.
class ColourTest : public InteractiveTest {
 protected:
  // Starts a client with `env`, takes the nickname bob and returns the screen's SGR text.
  std::string screen_after_nickname(std::vector<std::string> env) {
    const auto screen = start_client(daemon_.port(), {}, std::move(env));
    EXPECT_TRUE(screen->wait_for("[lobby] Client #"));
    screen->type("/nick bob");
    screen->press({"Enter"});
    EXPECT_TRUE(screen->wait_for_last_line("[lobby] bob>"));
    return screen->screen_with_colours();
  }

  DaemonProcess daemon_;
};

TEST_F(ColourTest, NoticesAreDimOnAColourTerminal) {
  const std::string shown = screen_after_nickname({});
  EXPECT_NE(shown.find("\x1b[2m*** You are now known as bob."), std::string::npos)
      << escape_bytes(shown);
}

TEST_F(ColourTest, ATerminalWithoutColoursGetsNone) {
  // vt100 has no colours in its terminfo entry.
  const std::string shown = screen_after_nickname({"TERM=vt100"});
  EXPECT_EQ(shown.find("\x1b[2m"), std::string::npos) << escape_bytes(shown);
}

TEST_F(ColourTest, NoColorMeansNoColours) {
  const std::string shown = screen_after_nickname({"NO_COLOR=1"});
  EXPECT_EQ(shown.find("\x1b["), std::string::npos) << escape_bytes(shown);
}

}  // namespace
}  // namespace epollchat::test
