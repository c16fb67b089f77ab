// epollchat: the terminal chat client. main() holds the process-wide decisions only:
// the command line, which signals the event loop takes, and the exit status.
//
// Exit status (documented in man/epollchat.1):
//   0  the session ended as asked: exit, /quit [REASON], end of input, SIGINT, SIGTERM,
//      SIGHUP
//   1  another runtime error (it is printed)
//   2  cannot connect (or resolve the host, or complete TLS: the server's certificate was
//      not verified)
//   3  the server closed the connection ("*** Connection closed by server.") and
//      reconnecting was off
//   64 usage error (EX_USAGE)
#include <signal.h>
#include <unistd.h>

#include <clocale>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "build_config.hpp"
#include "client/chat_client.hpp"
#include "client/display.hpp"
#include "client/local_daemon_port.hpp"
#include "client/saved_terminal_mode.hpp"
#include "client/server_address.hpp"
#include "client/stdin_reader.hpp"
#include "client/terminal_colours.hpp"

namespace {

using epollchat::client::ChatClient;
using epollchat::client::Display;
using epollchat::client::SavedTerminalMode;
using epollchat::client::ServerAddress;
using epollchat::client::ServerStream;
using epollchat::client::SessionEnd;
using epollchat::client::StdinReader;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitCannotConnect = 2;
constexpr int kExitClosedByServer = 3;
constexpr int kExitUsage = 64;

constexpr std::string_view kDefaultHost = "127.0.0.1";

constexpr const char* kHelp =
    "Usage: epollchat [OPTIONS] [HOST [PORT]]\n"
    "       epollchat [OPTIONS] PORT\n"
    "Chat in an epollchatd room from the terminal.\n"
    "\n"
    "Connects to HOST (a name, an IPv4 or an IPv6 address; default 127.0.0.1) on\n"
    "PORT (default: the port in " EPOLLCHATD_DEFAULT_CONFIG
    " if set there, else 8888).\n"
    "A single all-digit argument is a port on 127.0.0.1. Every line typed is sent to\n"
    "the room; every line from the server is shown, with control characters made\n"
    "visible (ESC as ^[). On a terminal the input line can be edited, Up and Down recall\n"
    "earlier lines and Tab completes commands and nicknames.\n"
    "Leave with 'exit' or '/quit' on a line by itself, Ctrl-D or Ctrl-C.\n"
    "\n"
    "Options:\n"
    "      --tls           encrypt the connection with TLS, verifying the server's\n"
    "                      certificate and name against the system's CAs\n"
    "      --tls-ca FILE   with --tls (implied), trust the CA certificates in FILE\n"
    "                      (PEM) instead\n"
    "      --reconnect     reconnect when the connection is lost (the default on a\n"
    "                      terminal), restoring the nickname and room\n"
    "      --no-reconnect  exit when the connection is lost (the default otherwise)\n"
    "  -h, --help          show this help and exit\n"
    "      --version       show the version and exit\n"
    "\n"
    "Exit status: 0 left as asked, 1 error, 2 cannot connect,\n"
    "3 connection closed by the server, 64 usage error.\n";

struct Command {
  enum class Action { chat, help, version } action = Action::chat;
  ServerAddress server{std::string(kDefaultHost), 0};
  std::optional<bool> reconnect;  // nullopt: on a terminal only.
  bool tls = false;
  std::string tls_ca;  // "" with tls: the system's trust store
};

bool is_all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Returns the command, or nullopt after printing a usage error.
std::optional<Command> parse_command_line(int argc, char** argv) {
  Command command;
  std::vector<std::string_view> operands;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg.front() != '-') {
      operands.push_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "-h" || arg == "--help") {
      command.action = Command::Action::help;
      return command;
    } else if (arg == "--version") {
      command.action = Command::Action::version;
      return command;
    } else if (arg == "--reconnect") {
      command.reconnect = true;
    } else if (arg == "--no-reconnect") {
      command.reconnect = false;
    } else if (arg == "--tls") {
      command.tls = true;
    } else if (arg == "--tls-ca" || arg.starts_with("--tls-ca=")) {
      std::string_view file;
      if (arg != "--tls-ca") {
        file = arg.substr(std::string_view("--tls-ca=").size());
      } else if (i + 1 < argc) {
        file = argv[++i];
      }
      if (file.empty()) {
        std::fprintf(stderr, "epollchat: --tls-ca needs a file\nTry 'epollchat --help'.\n");
        return std::nullopt;
      }
      command.tls = true;
      command.tls_ca = std::string(file);
    } else {
      std::fprintf(stderr, "epollchat: unknown option '%s'\nTry 'epollchat --help'.\n", argv[i]);
      return std::nullopt;
    }
  }
  if (operands.size() > 2) {
    std::fprintf(stderr, "epollchat: too many arguments\nTry 'epollchat --help'.\n");
    return std::nullopt;
  }
  // A single all-digit operand is a port: `epollchat 8899` means the local daemon on 8899,
  // not the IPv4 address 0.0.34.195 that inet_aton() would make of it.
  if (operands.size() == 1 && is_all_digits(operands[0])) {
    operands.insert(operands.begin(), kDefaultHost);
  }
  if (!operands.empty()) {
    std::string_view host = operands[0];
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) {
      std::fprintf(stderr, "epollchat: empty host name\nTry 'epollchat --help'.\n");
      return std::nullopt;
    }
    command.server.host = std::string(host);
  }
  if (operands.size() == 2) {
    const auto port = epollchat::client::parse_port(operands[1]);
    if (!port) {
      std::fprintf(stderr, "epollchat: invalid port '%.*s' (expected 1..65535)\n",
                   static_cast<int>(operands[1].size()), operands[1].data());
      return std::nullopt;
    }
    command.server.port = *port;
  } else {
    command.server.port = epollchat::client::local_daemon_port(EPOLLCHATD_DEFAULT_CONFIG);
  }
  return command;
}

int chat(const Command& command) {
  const ServerAddress& server = command.server;
  std::optional<epollchat::TlsContext> tls;
  if (command.tls) {
    try {
      tls = epollchat::TlsContext::for_client(command.tls_ca);
    } catch (const epollchat::TlsSetupError& error) {
      throw std::runtime_error(std::string("TLS: ") + error.what());
    }
  }
  const epollchat::TlsContext* tls_context = tls ? &*tls : nullptr;
  ServerStream stream = ServerStream::open(server, tls_context);
  const std::string connected_to = server.to_string() + (tls ? " over TLS" : "");
  // Line editing, the prompt and colours need a terminal both ways; anything else keeps
  // the plain line-in, line-out behaviour scripts rely on.
  const bool interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
  const bool reconnect = command.reconnect.value_or(interactive);

  // Blocked before fork(), so neither process can be killed by them in between; the
  // parent reads them from a signalfd, the child restores the old mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
    sigaddset(&signals, signal_number);
  }
  sigset_t original;
  if (::sigprocmask(SIG_BLOCK, &signals, &original) != 0) {
    throw std::system_error(errno, std::generic_category(), "sigprocmask");
  }

  if (interactive) {
    std::fprintf(stderr,
                 "Connected to %s. Type /help for the commands; leave with /quit or Ctrl-D.\n",
                 connected_to.c_str());
  } else if (::isatty(STDIN_FILENO) == 1) {
    std::fprintf(stderr, "Connected to %s. Type 'exit' or press Ctrl-D to leave.\n",
                 connected_to.c_str());
  }

  // Restores the terminal after the child is gone, whatever happened to the child.
  const SavedTerminalMode terminal_mode(STDIN_FILENO);
  const int close_in_child[] = {stream.fd()};
  std::optional<StdinReader::EditorOptions> editor;
  if (interactive)
    editor = StdinReader::EditorOptions{.colours =
                                            epollchat::client::terminal_has_colours(STDOUT_FILENO)};
  StdinReader input = StdinReader::spawn(original, close_in_child, editor);
  // A reader of our standard output going away is an error we report, not a reason to die
  // silently; send() uses MSG_NOSIGNAL anyway.
  ::signal(SIGPIPE, SIG_IGN);

  Display display = interactive ? Display::through_editor(input.display_fd(), editor->colours)
                                : Display::plain(STDOUT_FILENO);
  ChatClient client(server, std::move(stream), tls_context, input, display, signals, reconnect);
  const SessionEnd end = client.run();
  input.finish();
  if (end == SessionEnd::server_closed) return kExitClosedByServer;
  return input.has_failed() ? kExitFailure : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Command> command = parse_command_line(argc, argv);
  if (!command) return kExitUsage;
  switch (command->action) {
    case Command::Action::help:
      std::fputs(kHelp, stdout);
      return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
    case Command::Action::version:
      std::puts("epollchat " EPOLLCHAT_VERSION);
      return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
    case Command::Action::chat:
      break;
  }
  // The line editor counts characters, not bytes, in the user's encoding.
  (void)std::setlocale(LC_CTYPE, "");
  try {
    return chat(*command);
  } catch (const epollchat::client::ConnectError& error) {
    std::fprintf(stderr, "epollchat: %s\n", error.what());
    return kExitCannotConnect;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "epollchat: %s\n", error.what());
    return kExitFailure;
  }
}
