// counted: a number with its noun, for text a person reads ("1 client", "2 clients").
//
// English only needs the two forms, given by the caller; zero takes the plural ("0 clients").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace epollchat {

[[nodiscard]] inline std::string counted(std::uint64_t count, std::string_view singular,
                                         std::string_view plural) {
  return std::to_string(count) + ' ' + std::string(count == 1 ? singular : plural);
}

}  // namespace epollchat
