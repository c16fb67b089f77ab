#include "client/terminal_text.hpp"

#include <cstddef>

#include "chat/protocol.hpp"

namespace epollchat::client {
namespace {

// Caret notation names a control byte by the printable character 0x40 above it:
// 0x1b (ESC) is '^' '[' and 0x7f (DEL) wraps around to '^' '?'.
void append_caret(std::string& out, unsigned char control) {
  out.push_back('^');
  out.push_back(static_cast<char>((control + 0x40U) & 0x7fU));
}

// UTF-8 encodes U+0080 .. U+009F as C2 80 .. C2 9F.
constexpr unsigned char kC1Lead = 0xc2;
constexpr unsigned char kC1First = 0x80;
constexpr unsigned char kC1Last = 0x9f;

}  // namespace

void append_displayable(std::string& out, std::string_view line) {
  out.reserve(out.size() + line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto byte = static_cast<unsigned char>(line[i]);
    if (protocol::is_control_character(byte)) {
      append_caret(out, byte);
      continue;
    }
    if (byte == kC1Lead && i + 1 < line.size()) {
      const auto next = static_cast<unsigned char>(line[i + 1]);
      if (next >= kC1First && next <= kC1Last) {
        out.append("M-");
        append_caret(out, static_cast<unsigned char>(next - kC1First));
        ++i;
        continue;
      }
    }
    out.push_back(static_cast<char>(byte));
  }
}

}  // namespace epollchat::client
