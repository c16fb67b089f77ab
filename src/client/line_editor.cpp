#include "client/line_editor.hpp"

#include <fcntl.h>
#include <histedit.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cwchar>
#include <vector>

#include "chat/protocol.hpp"
#include "client/editor_records.hpp"
#include "client/write_all.hpp"

namespace epollchat::client {
namespace {

// The chat commands, as the first word of a line; those that take an argument end in a
// space, so completing one leaves the cursor where the argument goes.
constexpr std::string_view kCommands[] = {"/help", "/join ", "/me ",   "/msg ", "/nick ",
                                          "/part", "/quit",  "/rooms", "/who"};

// Shown around the prompt by libedit's EL_PROMPT_ESC: bytes between two kPromptEscape
// are written but take no column.
constexpr char kPromptEscape = '\1';

// The key sequences (after ESC) that the bindings below give a meaning; every other
// CSI or SS3 sequence is swallowed whole, so that an unknown key (F5 is ESC [ 1 5 ~) can
// neither run a command by accident nor leave "15~" in the line.
constexpr std::string_view kKnownSequences[] = {"[A",  "[B",  "[C",  "[D",  "OA", "OB",
                                                "OC",  "OD",  "[H",  "[F",  "OH", "OF",
                                                "[1~", "[4~", "[7~", "[8~", "[3~"};
// How long the rest of a key's sequence may take after its ESC. A terminal sends a
// sequence in one write, so this only matters for an ESC typed on its own.
constexpr int kSequenceTimeoutMs = 50;
constexpr std::size_t kLongestSequence = 16;

struct Editor {
  EditLine* line = nullptr;
  History* history = nullptr;
  int typed_fd = -1;
  int display_fd = -1;
  int signal_fd = -1;
  bool colours = false;
  termios original{};
  bool has_original = false;
  std::string prompt = "> ";
  std::string prompt_drawn = "> ";
  std::string nicknames;
  std::string display_partial;
  std::mbstate_t decoding{};
  std::string keys;  // Bytes of a known key sequence, handed to libedit one by one.
};

// libedit's callbacks get only the EditLine; the child has exactly one editor.
Editor* editor_of(EditLine* line) {
  void* data = nullptr;
  el_get(line, EL_CLIENTDATA, &data);
  return static_cast<Editor*>(data);
}

char* draw_prompt(EditLine* line) { return editor_of(line)->prompt_drawn.data(); }

void set_prompt(Editor& editor, std::string_view prompt) {
  editor.prompt = std::string(prompt);
  if (editor.colours) {
    // libedit drops an escaped part at the very end of the prompt, so the bold ends before
    // the prompt's last character.
    std::string_view head = editor.prompt;
    const std::string_view last = head.substr(head.empty() ? 0 : head.size() - 1);
    head.remove_suffix(last.size());
    editor.prompt_drawn = std::string{kPromptEscape} + "\x1b[1m" + kPromptEscape +
                          std::string(head) + kPromptEscape + "\x1b[0m" + kPromptEscape +
                          std::string(last);
  } else {
    editor.prompt_drawn = editor.prompt;
  }
}

std::size_t columns_of(std::string_view text) {
  std::size_t columns = 0;
  // Counts code points: every UTF-8 byte but a continuation byte starts one.
  for (const char c : text) columns += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  return columns;
}

std::size_t terminal_width() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

// Moves to the first row of the prompt and clears from there to the end of the screen, so
// what is printed next lands where the input line was.
void erase_input_line(Editor& editor) {
  const LineInfo* info = el_line(editor.line);
  const std::size_t cursor_column =
      columns_of(editor.prompt) +
      columns_of(
          std::string_view(info->buffer, static_cast<std::size_t>(info->cursor - info->buffer)));
  const std::size_t rows_up = cursor_column / terminal_width();
  std::string erase = "\r";
  if (rows_up > 0) erase += "\x1b[" + std::to_string(rows_up) + "A";
  erase += "\x1b[J";
  (void)write_all(STDOUT_FILENO, erase);
}

void redraw_input_line(Editor& editor) { el_set(editor.line, EL_REFRESH); }

void restore_terminal(const Editor& editor) {
  if (editor.has_original) (void)::tcsetattr(STDIN_FILENO, TCSADRAIN, &editor.original);
}

// Every way out of the child goes through here.
[[noreturn]] void leave(Editor& editor, bool erase) {
  if (erase) erase_input_line(editor);
  restore_terminal(editor);
  ::_exit(0);
}

// Prints the display records in `bytes`; returns whether the input line must be redrawn.
bool show_records(Editor& editor, std::string_view bytes, bool editing) {
  editor.display_partial.append(bytes);
  std::string_view pending = editor.display_partial;
  std::string shown;
  bool redraw = false;
  std::size_t newline = 0;
  while ((newline = pending.find('\n')) != std::string_view::npos) {
    const std::string_view record = pending.substr(0, newline);
    pending.remove_prefix(newline + 1);
    if (record.empty()) continue;
    const std::string_view text = record.substr(1);
    switch (record.front()) {
      case editor_record::kShow:
        // LF alone: libedit's editing mode keeps the output's LF -> CR LF translation, and
        // outside it the terminal is as the user set it.
        shown.append(text).push_back('\n');
        break;
      case editor_record::kPrompt:
        set_prompt(editor, text);
        redraw = true;
        break;
      case editor_record::kCompletions:
        editor.nicknames = std::string(text);
        break;
      default:
        break;
    }
  }
  editor.display_partial.erase(0, editor.display_partial.size() - pending.size());
  if (!shown.empty()) {
    if (editing) erase_input_line(editor);
    (void)write_all(STDOUT_FILENO, shown);
    redraw = true;
  }
  return redraw && editing;
}

// Reads what the display pipe has; at EOF the parent is done and so is the child.
void read_display(Editor& editor, bool editing) {
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(editor.display_fd, buffer, sizeof buffer);
    if (got > 0) {
      if (show_records(editor, std::string_view(buffer, static_cast<std::size_t>(got)), editing)) {
        redraw_input_line(editor);
      }
      return;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    leave(editor, editing);
  }
}

void read_signals(Editor& editor, bool editing) {
  signalfd_siginfo info{};
  while (::read(editor.signal_fd, &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGWINCH) {
      if (editing) {
        el_resize(editor.line);
        (void)write_all(STDOUT_FILENO, "\r\x1b[J");
        redraw_input_line(editor);
      }
    } else {
      leave(editor, editing);
    }
  }
}

// Reads one byte of a key sequence, waiting at most kSequenceTimeoutMs; -1 if none came.
int next_sequence_byte() {
  pollfd input{STDIN_FILENO, POLLIN, 0};
  if (::poll(&input, 1, kSequenceTimeoutMs) <= 0) return -1;
  unsigned char byte = 0;
  return ::read(STDIN_FILENO, &byte, 1) == 1 ? byte : -1;
}

// After an ESC: reads the rest of the key's sequence into editor.keys if it is one the
// editor knows, or an Alt-key pair (ESC and one character); drops anything else.
void read_key_sequence(Editor& editor) {
  const int introducer = next_sequence_byte();
  if (introducer < 0) return;  // ESC alone: nothing to do.
  std::string sequence(1, static_cast<char>(introducer));
  if (introducer == '[' || introducer == 'O') {
    // Parameters and intermediates (0x20..0x3f), then one final byte (0x40..0x7e).
    for (;;) {
      const int byte = next_sequence_byte();
      if (byte < 0 || sequence.size() > kLongestSequence) return;
      sequence.push_back(static_cast<char>(byte));
      if (byte >= 0x40 && byte <= 0x7e) break;
      if (byte < 0x20 || byte > 0x3f) return;
    }
    const bool known = std::find(std::begin(kKnownSequences), std::end(kKnownSequences),
                                 sequence) != std::end(kKnownSequences);
    if (!known) return;
  }
  editor.keys = "\x1b" + sequence;
}

// libedit's EL_GETCFN: one character of input, serving the display pipe and the signals
// while it waits. Returns 1 with a character, 0 at the end of input, -1 on error.
int read_character(EditLine* line, wchar_t* character) {
  Editor& editor = *editor_of(line);
  for (;;) {
    if (!editor.keys.empty()) {
      *character = static_cast<wchar_t>(static_cast<unsigned char>(editor.keys.front()));
      editor.keys.erase(0, 1);
      return 1;
    }
    pollfd fds[3] = {
        {STDIN_FILENO, POLLIN, 0}, {editor.display_fd, POLLIN, 0}, {editor.signal_fd, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (fds[2].revents != 0) read_signals(editor, true);
    if (fds[1].revents != 0) read_display(editor, true);
    if (fds[0].revents == 0) continue;
    char byte = 0;
    const ssize_t got = ::read(STDIN_FILENO, &byte, 1);
    if (got == 0) return 0;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    if (byte == '\x1b') {
      editor.decoding = {};
      read_key_sequence(editor);
      continue;
    }
    const std::size_t used = std::mbrtowc(character, &byte, 1, &editor.decoding);
    if (used == static_cast<std::size_t>(-2)) continue;  // Inside a multibyte character.
    if (used == static_cast<std::size_t>(-1)) {
      // Not the locale's encoding: taken as the byte itself, and decoding starts over.
      editor.decoding = {};
      *character = static_cast<wchar_t>(static_cast<unsigned char>(byte));
    }
    return 1;
  }
}

unsigned char complete_at_cursor(EditLine* line, int /*key*/) {
  Editor& editor = *editor_of(line);
  const LineInfo* info = el_line(line);
  const Completion completion = complete_word(
      std::string_view(info->buffer, static_cast<std::size_t>(info->cursor - info->buffer)),
      editor.nicknames);
  if (!completion.insert.empty()) {
    (void)el_insertstr(line, completion.insert.c_str());
    return CC_REFRESH;
  }
  if (completion.candidates.empty()) return CC_REFRESH_BEEP;
  erase_input_line(editor);
  (void)write_all(STDOUT_FILENO, completion.candidates + "\n");
  return CC_REDISPLAY;
}

void bind_keys(EditLine* line) {
  el_set(line, EL_EDITOR, "emacs");
  el_set(line, EL_ADDFN, "chat-complete", "complete a command or nickname", complete_at_cursor);
  struct Binding {
    const char* keys;
    const char* function;
  };
  // libedit binds the arrows from terminfo, which names the application-mode sequences
  // (ESC O A); terminals send ESC [ A in normal mode, so both are bound, and Home, End and
  // Delete in the forms that common terminals send.
  constexpr Binding kBindings[] = {
      {"^I", "chat-complete"},           {"^A", "ed-move-to-beg"},
      {"^E", "ed-move-to-end"},          {"^W", "ed-delete-prev-word"},
      {"^U", "vi-kill-line-prev"},       {"^K", "ed-kill-line"},
      {"\\e[A", "ed-prev-history"},      {"\\eOA", "ed-prev-history"},
      {"\\e[B", "ed-next-history"},      {"\\eOB", "ed-next-history"},
      {"\\e[C", "ed-next-char"},         {"\\eOC", "ed-next-char"},
      {"\\e[D", "ed-prev-char"},         {"\\eOD", "ed-prev-char"},
      {"\\e[H", "ed-move-to-beg"},       {"\\eOH", "ed-move-to-beg"},
      {"\\e[1~", "ed-move-to-beg"},      {"\\e[7~", "ed-move-to-beg"},
      {"\\e[F", "ed-move-to-end"},       {"\\eOF", "ed-move-to-end"},
      {"\\e[4~", "ed-move-to-end"},      {"\\e[8~", "ed-move-to-end"},
      {"\\e[3~", "ed-delete-next-char"},
  };
  for (const Binding& binding : kBindings) {
    el_set(line, EL_BIND, binding.keys, binding.function, nullptr);
  }
}

// A finished line as the server may see it: without control characters (a key the editor
// did not know must not send its escape sequence), and nothing for a blank line.
std::string sendable(std::string_view line) {
  std::string out;
  for (const char c : line) {
    if (!protocol::is_control_character(static_cast<unsigned char>(c)) || c == '\t') {
      out.push_back(c);
    }
  }
  return out;
}

bool ends_input(std::string_view line) {
  constexpr std::string_view kBlank = " \t";
  const std::size_t first = line.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return false;
  line = line.substr(first, line.find_last_not_of(kBlank) - first + 1);
  return line == "exit" || line == "/quit";
}

void forward(Editor& editor, std::string_view line) {
  HistEvent event{};
  history(editor.history, &event, H_ENTER, std::string(line).c_str());
  std::string framed(line);
  framed.push_back('\n');
  std::string_view unsent = framed;
  // The typed-lines pipe is full only when the parent has stopped reading it (the server
  // takes nothing); the parent may then be writing to the display pipe, so that is served
  // while waiting, or the two would wait for each other.
  while (!unsent.empty()) {
    const ssize_t written = ::write(editor.typed_fd, unsent.data(), unsent.size());
    if (written >= 0) {
      unsent.remove_prefix(static_cast<std::size_t>(written));
      continue;
    }
    if (errno == EINTR) continue;
    // EPIPE: the parent has gone, and with it the reason to edit.
    if (errno != EAGAIN) leave(editor, false);
    pollfd fds[3] = {{editor.typed_fd, POLLOUT, 0},
                     {editor.display_fd, POLLIN, 0},
                     {editor.signal_fd, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) leave(editor, false);
    if (fds[2].revents != 0) read_signals(editor, false);
    if (fds[1].revents != 0) read_display(editor, false);
  }
}

// After the input ended: the parent may still have lines to show (the server's answer to
// our leaving) until it closes the display pipe.
[[noreturn]] void show_until_parent_is_done(Editor& editor) {
  ::close(editor.typed_fd);
  for (;;) {
    pollfd fds[2] = {{editor.display_fd, POLLIN, 0}, {editor.signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) leave(editor, false);
    if (fds[1].revents != 0) read_signals(editor, false);
    if (fds[0].revents != 0) read_display(editor, false);
  }
}

}  // namespace

Completion complete_word(std::string_view before_cursor, std::string_view nicknames) {
  const std::size_t space = before_cursor.rfind(' ');
  const std::size_t start = space == std::string_view::npos ? 0 : space + 1;
  const std::string_view word = before_cursor.substr(start);
  std::vector<std::string_view> matches;
  if (start == 0 && word.starts_with('/')) {
    for (const std::string_view command : kCommands) {
      if (command.starts_with(word)) matches.push_back(command);
    }
  } else {
    while (!nicknames.empty()) {
      const std::size_t end = nicknames.find(' ');
      const std::string_view name = nicknames.substr(0, end);
      if (!name.empty() && name.starts_with(word)) matches.push_back(name);
      if (end == std::string_view::npos) break;
      nicknames.remove_prefix(end + 1);
    }
  }
  Completion completion;
  if (matches.empty()) return completion;
  if (matches.size() == 1) {
    completion.insert = std::string(matches.front().substr(word.size()));
    // A whole nickname is followed by a space, as a whole command with an argument is.
    if (!matches.front().starts_with('/')) completion.insert.push_back(' ');
    return completion;
  }
  std::size_t common = matches.front().size();
  for (const std::string_view match : matches) {
    std::size_t same = 0;
    while (same < common && same < match.size() && match[same] == matches.front()[same]) ++same;
    common = same;
  }
  if (common > word.size()) {
    completion.insert = std::string(matches.front().substr(word.size(), common - word.size()));
    return completion;
  }
  for (const std::string_view match : matches) {
    if (!completion.candidates.empty()) completion.candidates.push_back(' ');
    completion.candidates.append(match);
  }
  return completion;
}

void run_line_editor(int typed_fd, int display_fd, bool colours) noexcept {
  Editor editor;
  editor.typed_fd = typed_fd;
  editor.display_fd = display_fd;
  editor.colours = colours;
  set_prompt(editor, "> ");

  sigset_t handled;
  sigemptyset(&handled);
  for (const int signal_number : {SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&handled, signal_number);
  (void)::sigprocmask(SIG_BLOCK, &handled, nullptr);
  editor.signal_fd = ::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
  editor.has_original = ::tcgetattr(STDIN_FILENO, &editor.original) == 0;
  // This child is the pipe's only writer, so O_NONBLOCK here changes nothing for anyone
  // else; forward() waits in poll() instead.
  (void)::fcntl(typed_fd, F_SETFL, ::fcntl(typed_fd, F_GETFL) | O_NONBLOCK);
  if (editor.signal_fd < 0) leave(editor, false);

  editor.history = history_init();
  editor.line = el_init("epollchat", stdin, stdout, stderr);
  if (editor.history == nullptr || editor.line == nullptr) leave(editor, false);
  HistEvent event{};
  history(editor.history, &event, H_SETSIZE, 1000);
  history(editor.history, &event, H_SETUNIQUE, 1);
  el_set(editor.line, EL_CLIENTDATA, &editor);
  el_set(editor.line, EL_HIST, history, editor.history);
  el_set(editor.line, EL_PROMPT_ESC, draw_prompt, kPromptEscape);
  el_set(editor.line, EL_GETCFN, read_character);
  bind_keys(editor.line);

  for (;;) {
    int count = 0;
    const char* typed = el_gets(editor.line, &count);
    if (typed == nullptr || count <= 0) {
      // Ctrl-D on an empty line: what is shown next starts below the prompt.
      (void)write_all(STDOUT_FILENO, "\n");
      break;
    }
    std::string_view line(typed, static_cast<std::size_t>(count));
    if (line.ends_with('\n')) line.remove_suffix(1);
    const std::string text = sendable(line);
    if (ends_input(text)) break;
    if (!text.empty()) forward(editor, text);
  }
  // el_gets() has put the terminal back into its original mode on its way out.
  show_until_parent_is_done(editor);
}

}  // namespace epollchat::client
