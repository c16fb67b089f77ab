// RespReader: reads one RESP2 reply or push from a byte buffer, without copying.
//
// The benchmark's redis side needs only a little of RESP: `+PONG`, `:N` (PUBLISH replies),
// `-ERR ...`, and arrays of bulk strings (`subscribe` confirmations and `message` pushes).
// A message push has a known shape, so LoadGenerator matches its fixed prefix first and
// comes here only for everything else.
// Owns nothing: views point into the caller's buffer and die with it.
#pragma once

#include <cstddef>
#include <string_view>

namespace epollchat::bench {

struct RespValue {
  char type = 0;                // '+', '-', ':', '$' or '*'
  std::string_view text;        // simple string, error, integer digits or bulk string
  std::size_t elements = 0;     // for arrays
  std::string_view element[3];  // the first three elements of an array, if bulk strings
};

enum class RespStatus { complete, incomplete, malformed };

// Parses one value at the start of [data, data + size). On `complete`, `consumed` is its
// length in bytes.
RespStatus read_resp(const char* data, std::size_t size, RespValue& value, std::size_t& consumed);

}  // namespace epollchat::bench
