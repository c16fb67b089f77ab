// Turning what the server sends into text that is safe to show on a terminal.
//
// A chat server relays what other people typed, so every received line is untrusted: an
// ESC sequence in it could clear the screen, move the cursor, retitle the window or, on
// some terminals, answer back into our own input. Nothing here does I/O or keeps state.
#pragma once

#include <string>
#include <string_view>

namespace epollchat::client {

// Appends `line` to `out` with every control character shown in caret notation, the way
// `cat -v` does: C0 controls other than TAB as ^@ .. ^_ (ESC is ^[), DEL as ^?, and the
// C1 controls U+0080 .. U+009F, which UTF-8 terminals may honour (U+009B is a one-byte
// CSI), as M-^@ .. M-^_. Every other byte, including invalid UTF-8, passes unchanged:
// showing it is the terminal's business, and it cannot start a control sequence there.
void append_displayable(std::string& out, std::string_view line);

}  // namespace epollchat::client
