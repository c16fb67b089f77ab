// Reading the list of names in a /who reply ("alice, bob, Client #3"), for the unit test of
// the reply's text and the integration test of the reply the server sends.
//
// Header-only and free of the test support library, so the unit tests can include it too.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace epollchat::test {

// Appends the names of a ", "-separated list to `names`, in order.
inline void append_listed_names(std::string_view list, std::vector<std::string>& names) {
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(", ", start);
    names.emplace_back(list.substr(start, comma - start));
    if (comma == std::string_view::npos) return;
    start = comma + 2;
  }
}

}  // namespace epollchat::test
