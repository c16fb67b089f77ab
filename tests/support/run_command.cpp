#include "support/run_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"
#include "support/deadline.hpp"

namespace epollchat::test {
namespace {

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe make_pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds timeout, StderrIs stderr_is) {
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  SpawnSpec spec;
  spec.argv = argv;
  spec.env = clean_environment();
  for (const auto& [key, value] : env) set_environment(spec.env, key, value);
  if (stderr_is == StderrIs::journal) {
    set_environment(spec.env, "JOURNAL_STREAM", journal_stream_of(err.write_end.get()));
  }
  spec.stdout_fd = out.write_end.get();
  spec.stderr_fd = err.write_end.get();
  ChildProcess child = ChildProcess::spawn(spec);
  out.write_end.reset();
  err.write_end.reset();

  const Deadline deadline(timeout);
  CommandResult result;
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  std::array<UniqueFd*, 2> sources{&out.read_end, &err.read_end};
  while (out.read_end || err.read_end) {
    std::array<pollfd, 2> fds{{{out.read_end.get(), POLLIN, 0}, {err.read_end.get(), POLLIN, 0}}};
    const int ready = ::poll(fds.data(), fds.size(), deadline.poll_timeout());
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw std::system_error(errno, std::generic_category(), "poll");
    if (ready == 0) {
      child.send_signal(SIGKILL);
      child.wait_exit(std::chrono::seconds(5));
      throw std::runtime_error(argv.front() + " still running after " +
                               std::to_string(timeout.count()) + " ms; stderr so far:\n" +
                               result.err);
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        sources[i]->reset();
      }
    }
  }
  const auto status = child.wait_exit(deadline.remaining());
  if (!status) {
    child.send_signal(SIGKILL);
    child.wait_exit(std::chrono::seconds(5));
    throw std::runtime_error(argv.front() + " closed its output but did not exit in time");
  }
  result.status = *status;
  return result;
}

}  // namespace epollchat::test
