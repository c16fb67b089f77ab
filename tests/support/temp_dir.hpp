// TempDir: a private directory under $TMPDIR (or /tmp) for one test's files.
//
// Owns: the directory and everything written into it; the destructor removes them all.
// Never shared between tests, so parallel test processes cannot see each other's files.
// Lifetime: files written through it live exactly as long as the TempDir.
//
// Header-only on purpose: the unit tests, which link no test support library, use it too.
// Paths are std::filesystem::path, which converts to std::string where a string is wanted.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace epollchat::test {

class TempDir {
 public:
  // Throws std::system_error if the directory cannot be created.
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/epollchat-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Where `name` is (or would be) inside the directory; nothing is created.
  [[nodiscard]] std::filesystem::path file(std::string_view name) const { return path_ / name; }

  // Writes `contents` to `name` inside the directory (replacing it) and returns its path.
  // Throws std::system_error if it cannot be written.
  std::filesystem::path write(std::string_view name, std::string_view contents) const {
    const auto written = file(name);
    std::ofstream out(written, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) throw std::system_error(EIO, std::generic_category(), "write " + written.string());
    return written;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace epollchat::test
