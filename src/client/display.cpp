#include "client/display.hpp"

#include <cerrno>
#include <system_error>

#include "client/editor_records.hpp"
#include "client/terminal_text.hpp"
#include "client/write_all.hpp"

namespace epollchat::client {
namespace {

constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kWhisper = "\x1b[1;35m";
constexpr std::string_view kReset = "\x1b[0m";

// Notices from the server and from the client start so; whispers to us contain the marker.
bool is_notice(std::string_view line) { return line.starts_with("*** "); }
bool is_whisper(std::string_view line) {
  return line.find(" whispers >> ") != std::string_view::npos;
}

}  // namespace

void Display::add_server_line(std::string_view line) {
  std::string safe;
  append_displayable(safe, line);
  std::string_view colour;
  if (is_notice(line)) {
    colour = kDim;
  } else if (is_whisper(line)) {
    colour = kWhisper;
  }
  add_shown_line(safe, colour);
}

void Display::add_notice(std::string_view text) { add_shown_line(text, kDim); }

void Display::add_shown_line(std::string_view safe_text, std::string_view colour) {
  if (editor_) pending_.push_back(editor_record::kShow);
  const bool coloured = colours_ && !colour.empty();
  if (coloured) pending_.append(colour);
  pending_.append(safe_text);
  if (coloured) pending_.append(kReset);
  pending_.push_back('\n');
}

void Display::set_prompt(std::string_view prompt) {
  if (!editor_) return;
  pending_.push_back(editor_record::kPrompt);
  pending_.append(prompt);
  pending_.push_back('\n');
}

void Display::set_completions(const std::vector<std::string>& nicknames) {
  if (!editor_) return;
  pending_.push_back(editor_record::kCompletions);
  for (const std::string& name : nicknames) {
    if (&name != &nicknames.front()) pending_.push_back(' ');
    append_displayable(pending_, name);
  }
  pending_.push_back('\n');
}

void Display::flush() {
  if (pending_.empty()) return;
  const int error = editor_gone_ ? 0 : write_all(fd_, pending_);
  pending_.clear();
  if (error == EPIPE && editor_) {
    editor_gone_ = true;
    return;
  }
  if (error != 0) {
    throw std::system_error(error, std::generic_category(), "cannot write to standard output");
  }
}

}  // namespace epollchat::client
