#include "bench/resp_reader.hpp"

#include <cstring>

namespace epollchat::bench {
namespace {

// Finds the CRLF that ends the line starting at `data`; returns its offset or npos.
std::size_t find_crlf(const char* data, std::size_t size) noexcept {
  const void* cr = std::memchr(data, '\r', size);
  if (cr == nullptr) return std::string_view::npos;
  const auto at = static_cast<std::size_t>(static_cast<const char*>(cr) - data);
  if (at + 1 >= size) return std::string_view::npos;
  return at;
}

bool parse_length(std::string_view digits, long long& out) noexcept {
  if (digits.empty()) return false;
  bool negative = false;
  std::size_t i = 0;
  if (digits[0] == '-') {
    negative = true;
    i = 1;
  }
  long long v = 0;
  for (; i < digits.size(); ++i) {
    if (digits[i] < '0' || digits[i] > '9' || v > (1LL << 40)) return false;
    v = v * 10 + (digits[i] - '0');
  }
  out = negative ? -v : v;
  return true;
}

RespStatus read_value(const char* data, std::size_t size, RespValue& value, std::size_t& consumed,
                      int depth) {
  if (size < 3) return RespStatus::incomplete;
  const std::size_t eol = find_crlf(data + 1, size - 1);
  if (eol == std::string_view::npos) return RespStatus::incomplete;
  if (data[1 + eol + 1] != '\n') return RespStatus::malformed;
  const std::string_view line(data + 1, eol);
  const std::size_t header = 1 + eol + 2;
  value.type = data[0];
  switch (data[0]) {
    case '+':
    case '-':
    case ':':
      value.text = line;
      consumed = header;
      return RespStatus::complete;
    case '$': {
      long long length = 0;
      if (!parse_length(line, length)) return RespStatus::malformed;
      if (length < 0) {
        value.text = {};
        consumed = header;
        return RespStatus::complete;
      }
      const auto n = static_cast<std::size_t>(length);
      if (size < header + n + 2) return RespStatus::incomplete;
      value.text = std::string_view(data + header, n);
      consumed = header + n + 2;
      return RespStatus::complete;
    }
    case '*': {
      long long count = 0;
      if (!parse_length(line, count) || depth > 4) return RespStatus::malformed;
      value.elements = count < 0 ? 0 : static_cast<std::size_t>(count);
      std::size_t offset = header;
      for (std::size_t i = 0; i < value.elements; ++i) {
        RespValue element;
        std::size_t used = 0;
        const RespStatus status =
            read_value(data + offset, size - offset, element, used, depth + 1);
        if (status != RespStatus::complete) return status;
        if (i < 3) value.element[i] = element.type == '$' ? element.text : std::string_view{};
        offset += used;
      }
      consumed = offset;
      return RespStatus::complete;
    }
    default:
      return RespStatus::malformed;
  }
}

}  // namespace

RespStatus read_resp(const char* data, std::size_t size, RespValue& value, std::size_t& consumed) {
  value = RespValue{};
  return read_value(data, size, value, consumed, 0);
}

}  // namespace epollchat::bench
