#include "client/stdin_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

#include "client/line_editor.hpp"
#include "client/write_all.hpp"
#include "core/socket.hpp"

namespace epollchat::client {
namespace {

// The child's side: turns what it reads from standard input into LF-terminated lines on
// the pipe, recognising the lines that end the input. Fixed buffers only: it runs in a
// forked copy of the parent and should do as little there as possible.
class LineForwarder {
 public:
  explicit LineForwarder(int pipe_fd) noexcept : pipe_fd_(pipe_fd) {}

  // Takes the next chunk of input. Returns false when a line ended the input (`exit` or
  // `/quit`); that line and the rest of the chunk are not forwarded.
  [[nodiscard]] bool feed(std::string_view bytes) noexcept {
    while (!bytes.empty()) {
      const std::size_t newline = bytes.find('\n');
      add_to_line(bytes.substr(0, newline));
      if (newline == std::string_view::npos) break;
      bytes.remove_prefix(newline + 1);
      if (!end_line()) return false;
    }
    return true;
  }

  // End of input: a last line without LF still counts as a line.
  void finish() noexcept {
    if (streaming_ || head_size_ > 0) (void)end_line();
    flush();
  }

  // Hands everything buffered to the parent. Called after every read, so an interactive
  // line leaves as soon as it is typed, and a paste leaves in pipe-sized pieces.
  void flush() noexcept {
    const int error = write_all(pipe_fd_, std::string_view(out_, out_size_));
    out_size_ = 0;
    // EPIPE: the parent has closed its end, so it is leaving and needs nothing more.
    if (error == EPIPE) ::_exit(0);
    if (error != 0) report_and_exit("cannot write to the pipe", error);
  }

  [[noreturn]] static void report_and_exit(std::string_view what, int error) noexcept {
    // The parent is single-threaded, so strerror() is safe in its forked child.
    (void)write_all(STDERR_FILENO, "epollchat: ");
    (void)write_all(STDERR_FILENO, what);
    (void)write_all(STDERR_FILENO, ": ");
    (void)write_all(STDERR_FILENO, std::strerror(error));
    (void)write_all(STDERR_FILENO, "\n");
    ::_exit(1);
  }

 private:
  // A line is kept back only while it is short enough to be a command; a longer one is
  // streamed through as it arrives, so a line of any length costs no memory here.
  static constexpr std::size_t kCommandCheckLimit = 16;

  void add_to_line(std::string_view piece) noexcept {
    if (streaming_) {
      append(piece);
    } else if (head_size_ + piece.size() <= kCommandCheckLimit) {
      std::memcpy(head_ + head_size_, piece.data(), piece.size());
      head_size_ += piece.size();
    } else {
      append(std::string_view(head_, head_size_));
      append(piece);
      head_size_ = 0;
      streaming_ = true;
    }
  }

  // Completes the current line; returns false if it was one that ends the input.
  [[nodiscard]] bool end_line() noexcept {
    if (streaming_) {
      streaming_ = false;
      append("\n");
      return true;
    }
    const std::string_view line(head_, head_size_);
    head_size_ = 0;
    const std::string_view command = trim(line);
    if (command == "exit" || command == "/quit") return false;
    if (!line.empty()) {
      append(line);
      append("\n");
    }
    return true;
  }

  static std::string_view trim(std::string_view line) noexcept {
    constexpr std::string_view kBlank = " \t\r";
    const std::size_t first = line.find_first_not_of(kBlank);
    if (first == std::string_view::npos) return {};
    return line.substr(first, line.find_last_not_of(kBlank) - first + 1);
  }

  void append(std::string_view bytes) noexcept {
    if (bytes.size() > sizeof out_ - out_size_) {
      flush();
      if (bytes.size() >= sizeof out_) {
        const int error = write_all(pipe_fd_, bytes);
        if (error == EPIPE) ::_exit(0);
        if (error != 0) report_and_exit("cannot write to the pipe", error);
        return;
      }
    }
    std::memcpy(out_ + out_size_, bytes.data(), bytes.size());
    out_size_ += bytes.size();
  }

  int pipe_fd_;
  char head_[kCommandCheckLimit] = {};
  std::size_t head_size_ = 0;
  bool streaming_ = false;
  char out_[8192] = {};
  std::size_t out_size_ = 0;
};

void set_disposition(int signal_number, void (*handler)(int)) noexcept {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  (void)sigaction(signal_number, &action, nullptr);
}

// Everything the child does before its loop: drop what belongs to the parent, set up its
// signals (see the header) and make sure it cannot outlive the parent.
void prepare_child(int read_end, std::span<const int> close_in_child, const sigset_t& signal_mask,
                   pid_t parent, bool editing) noexcept {
  ::close(read_end);
  for (const int fd : close_in_child) ::close(fd);
  // Without an editor the parent alone writes to standard output; a reader of it
  // (`epollchat | less`) then sees its end as soon as the parent is gone.
  if (!editing) ::close(STDOUT_FILENO);

  set_disposition(SIGINT, SIG_IGN);
  set_disposition(SIGTERM, SIG_DFL);
  set_disposition(SIGHUP, SIG_DFL);
  set_disposition(SIGPIPE, SIG_DFL);
  // Asked for before the check, so a parent dying in between is still caught.
  (void)::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(0);
  // Signals blocked by the parent stay pending here until this point, so a SIGTERM sent
  // right after fork() still ends the child.
  (void)::sigprocmask(SIG_SETMASK, &signal_mask, nullptr);
}

[[noreturn]] void run_child(int write_end) noexcept {
  LineForwarder forwarder(write_end);
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (got > 0) {
      const bool more = forwarder.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
      forwarder.flush();
      if (!more) ::_exit(0);
    } else if (got == 0) {
      forwarder.finish();
      ::_exit(0);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // Someone left standard input non-blocking; wait instead of spinning.
      pollfd wait_for{STDIN_FILENO, POLLIN, 0};
      (void)::poll(&wait_for, 1, -1);
    } else if (errno != EINTR) {
      LineForwarder::report_and_exit("cannot read standard input", errno);
    }
  }
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

StdinReader StdinReader::spawn(const sigset_t& child_signal_mask,
                               std::span<const int> close_in_child,
                               std::optional<EditorOptions> editor) {
  int ends[2];
  // Only the read end becomes non-blocking: the child's writes block when the pipe is
  // full, which is how backpressure from a slow server reaches the typist.
  if (::pipe2(ends, O_CLOEXEC) != 0) throw_errno("pipe2");
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  set_nonblocking(read_end.get());
  UniqueFd display_read;
  UniqueFd display_write;
  if (editor) {
    int display_ends[2];
    if (::pipe2(display_ends, O_CLOEXEC) != 0) throw_errno("pipe2");
    display_read = UniqueFd(display_ends[0]);
    display_write = UniqueFd(display_ends[1]);
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    prepare_child(read_end.get(), close_in_child, child_signal_mask, parent, editor.has_value());
    if (editor) {
      // The child must hold no write end of its own display pipe, or it would never see EOF.
      ::close(display_write.get());
      run_line_editor(write_end.get(), display_read.get(), editor->colours);
    }
    run_child(write_end.get());
  }
  return StdinReader(std::move(read_end), std::move(display_write), pid);
}

StdinReader::StdinReader(StdinReader&& other) noexcept
    : pipe_(std::move(other.pipe_)),
      display_(std::move(other.display_)),
      pid_(std::exchange(other.pid_, -1)),
      stop_sent_(other.stop_sent_),
      reaped_(other.reaped_),
      failed_(other.failed_) {}

StdinReader::~StdinReader() { finish(); }

void StdinReader::stop() noexcept {
  if (pid_ <= 0 || reaped_ || stop_sent_) return;
  stop_sent_ = true;
  if (display_) {
    display_.reset();
  } else {
    (void)::kill(pid_, SIGTERM);
  }
}

bool StdinReader::reap(bool wait) noexcept {
  if (pid_ <= 0 || reaped_) return true;
  int status = 0;
  pid_t result = 0;
  do {
    result = ::waitpid(pid_, &status, wait ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == 0) return false;
  // ECHILD cannot happen for our own unreaped child; treat it as gone all the same.
  reaped_ = true;
  failed_ = result == pid_ && WIFEXITED(status) && WEXITSTATUS(status) != 0;
  return true;
}

void StdinReader::finish() noexcept {
  if (pid_ <= 0 || reap(false)) return;
  stop();
  // A line editor blocks its signals (it reads them from a signalfd), so a child stuck
  // writing a line into a full pipe would never see the stop; with the read end closed,
  // its write fails with EPIPE and it leaves.
  pipe_.reset();
  (void)reap(true);
}

}  // namespace epollchat::client
