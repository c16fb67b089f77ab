// Who the service runs as: epollchatd.service has DynamicUser=yes, so systemd runs it as a
// user allocated at start, which owns no file and belongs to no group of /etc. A file the
// service must read is readable by it only through the "others" permission bits (or as a
// systemd credential, which systemd reads as root and hands over).
#pragma once

#include <optional>
#include <string>

namespace epollchat::daemon {

// True if this process runs as a user that systemd allocated for DynamicUser=.
[[nodiscard]] bool runs_as_dynamic_user() noexcept;

// Why the service could not read the Redis password file at `path`: the problem to report,
// or nullopt. Run by hand (as root, or as the file's owner) that is a file not readable by
// others, which this process may well read; run as the service's dynamic user it is a file
// this process is refused. An absent file is nullopt: reading it reports that.
[[nodiscard]] std::optional<std::string> redis_password_file_hidden_from_service(
    const std::string& path);

// The problem for a Redis password file the service's user cannot read.
[[nodiscard]] std::string redis_password_file_unreadable_by_service(const std::string& path);

}  // namespace epollchat::daemon
