// The records the parent sends the line-editing child, one per LF-terminated line on the
// display pipe. Their text never holds an LF: server text is made displayable first
// (terminal_text.hpp turns every control character into caret notation).
#pragma once

namespace epollchat::client::editor_record {

inline constexpr char kShow = 'L';         // Print the rest above the input line.
inline constexpr char kPrompt = 'P';       // The rest is the new prompt.
inline constexpr char kCompletions = 'C';  // The rest: nicknames for Tab, space-separated.

}  // namespace epollchat::client::editor_record
