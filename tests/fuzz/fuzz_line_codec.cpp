// libFuzzer target: the line codec against arbitrary bytes split at arbitrary points.
// Checks the codec's promises, not just that it survives: no line it delivers is empty,
// longer than max_line, or contains a terminator; the partial buffer stays bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/line_codec.hpp"

namespace {

struct CheckingSink {
  std::size_t max_line;
  void on_line(std::string_view line) const {
    if (line.empty() || line.size() > max_line) std::abort();
    if (line.find('\n') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
      std::abort();
    }
  }
  void on_line_too_long() const {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // The first two bytes choose the limit and how the stream is split into reads.
  const std::size_t max_line = 1 + data[0] % 64;
  const std::size_t step = 1 + data[1] % 17;
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  epollchat::LineCodec codec(max_line);
  CheckingSink sink{max_line};
  for (std::size_t offset = 0; offset < stream.size(); offset += step) {
    codec.feed(stream.substr(offset, step), sink);
    if (codec.buffered_bytes() > max_line + 1) std::abort();
  }
  return 0;
}
