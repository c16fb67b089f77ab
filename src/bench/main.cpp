// epollchat-bench: load generator for epollchatd and, for comparison, redis-server pub/sub.
// This file is the shell: options, error reporting, exit status. See load_generator.hpp.
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "bench/load_generator.hpp"
#include "bench/options.hpp"

int main(int argc, char** argv) {
  using namespace epollchat::bench;
  Options options;
  try {
    for (int i = 1; i < argc; ++i) {
      if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      }
    }
    options = parse_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "epollchat-bench: %s\n%s", e.what(), kUsage);
    return 64;
  }
  try {
    LoadGenerator generator(std::move(options));
    return generator.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "epollchat-bench: %s\n", e.what());
    return 1;
  }
}
