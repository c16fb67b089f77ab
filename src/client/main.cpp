// epollchat: the terminal chat client. main() holds the process-wide decisions only:
// the command line, which signals the event loop takes, and the exit status.
//
// Exit status (documented in man/epollchat.1):
//   0  the session ended as asked: exit, /quit, end of input, SIGINT, SIGTERM, SIGHUP
//   1  another runtime error (it is printed)
//   2  cannot connect (or resolve the host)
//   3  the server closed the connection ("*** Connection closed by server.")
//   64 usage error (EX_USAGE)
#include <signal.h>
#include <unistd.h>

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
#include "client/server_address.hpp"
#include "client/stdin_reader.hpp"

namespace {

using epollchat::client::ChatClient;
using epollchat::client::ServerAddress;
using epollchat::client::SessionEnd;
using epollchat::client::StdinReader;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitCannotConnect = 2;
constexpr int kExitClosedByServer = 3;
constexpr int kExitUsage = 64;

constexpr std::string_view kDefaultHost = "127.0.0.1";
constexpr std::uint16_t kDefaultPort = 8888;

constexpr const char* kHelp =
    "Usage: epollchat [OPTIONS] [HOST [PORT]]\n"
    "Chat in an epollchatd room from the terminal.\n"
    "\n"
    "Connects to HOST (a name, an IPv4 or an IPv6 address; default 127.0.0.1) on\n"
    "PORT (default 8888). Every line typed is sent to the room; every line from the\n"
    "server is shown, with control characters made visible (ESC as ^[).\n"
    "Leave with 'exit' or '/quit' on a line by itself, Ctrl-D or Ctrl-C.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help and exit\n"
    "      --version  show the version and exit\n"
    "\n"
    "Exit status: 0 left as asked, 1 error, 2 cannot connect,\n"
    "3 connection closed by the server, 64 usage error.\n";

struct Command {
  enum class Action { chat, help, version } action = Action::chat;
  ServerAddress server{std::string(kDefaultHost), kDefaultPort};
};

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
    } else {
      std::fprintf(stderr, "epollchat: unknown option '%s'\nTry 'epollchat --help'.\n", argv[i]);
      return std::nullopt;
    }
  }
  if (operands.size() > 2) {
    std::fprintf(stderr, "epollchat: too many arguments\nTry 'epollchat --help'.\n");
    return std::nullopt;
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
  }
  return command;
}

int chat(const ServerAddress& server) {
  epollchat::UniqueFd socket = epollchat::client::connect_to(server);

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

  const int close_in_child[] = {socket.get()};
  StdinReader input = StdinReader::spawn(original, close_in_child);
  // A reader of our standard output going away is an error we report, not a reason to die
  // silently; send() uses MSG_NOSIGNAL anyway.
  ::signal(SIGPIPE, SIG_IGN);

  if (::isatty(STDIN_FILENO) == 1) {
    std::fprintf(stderr, "Connected to %s. Type 'exit' or press Ctrl-D to leave.\n",
                 server.to_string().c_str());
  }

  ChatClient client(std::move(socket), input, signals);
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
  try {
    return chat(command->server);
  } catch (const epollchat::client::ConnectError& error) {
    std::fprintf(stderr, "epollchat: %s\n", error.what());
    return kExitCannotConnect;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "epollchat: %s\n", error.what());
    return kExitFailure;
  }
}
