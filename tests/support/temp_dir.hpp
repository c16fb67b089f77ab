// TempDir: a private directory under $TMPDIR (or /tmp) for one test's files.
//
// Owns: the directory and everything written into it; the destructor removes them all.
// Never shared between tests, so parallel test processes cannot see each other's files.
// Lifetime: files written through it live exactly as long as the TempDir.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace epollchat::test {

class TempDir {
 public:
  TempDir();  // throws std::system_error if the directory cannot be created
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Writes `contents` to `name` inside the directory (replacing it) and returns its path.
  std::filesystem::path write_file(std::string_view name, std::string_view contents) const;

 private:
  std::filesystem::path path_;
};

}  // namespace epollchat::test
