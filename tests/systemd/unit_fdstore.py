#!/usr/bin/env python3
"""The service's file descriptor store holds every client the daemon serves.

Usage: unit_fdstore.py SERVICE   (env EPOLLCHATD=built daemon)

The daemon keeps its listeners, each plain-text client's socket and, on a
planned stop, its saved sessions in systemd's file descriptor store, and
uses the store only when $FDSTORE says it is there.  So:
- FileDescriptorStoreMax= is set, and leaves room for the default
  max-clients (as `epollchatd --help` gives it) plus the two listeners and
  the saved sessions: a client beyond the store is dropped by a restart;
- Environment= sets FDSTORE= to the same number, as systemd 254 and later
  do themselves and systemd 252 does not: a smaller number would make the
  daemon believe in slots that are not there, a missing one turns the store
  off.
"""

import os
import pathlib
import re
import subprocess
import sys

from unit_restart import last, parse_unit, report

# "      --max-clients N      clients served at once (default 1024)"
MAX_CLIENTS_HELP = re.compile(r"^\s+--max-clients\s+\S+\s+.*\(default (\d+)\)", re.MULTILINE)
# The listener, the TLS listener and the saved sessions.
DAEMON_SLOTS = 3


def default_max_clients(daemon: str) -> int | None:
    proc = subprocess.run([daemon, "--help"], capture_output=True, text=True,
                          check=False, timeout=20)
    match = MAX_CLIENTS_HELP.search(proc.stdout)
    if proc.returncode != 0 or not match:
        print(f"FAIL: {daemon} --help (status {proc.returncode}) gives no default "
              "for --max-clients")
        return None
    return int(match.group(1))


def environment(service: dict[str, list[str]]) -> dict[str, str]:
    """The variables of every Environment= line, later ones winning (no quoting
    is used in the unit)."""
    variables = {}
    for value in service.get("Environment", []):
        for assignment in value.split():
            name, _, setting = assignment.partition("=")
            variables[name] = setting
    return variables


def check(service: dict[str, list[str]], max_clients: int) -> list[str]:
    store_max = last(service, "FileDescriptorStoreMax")
    if store_max is None or not store_max.isdigit():
        return [f"FileDescriptorStoreMax={store_max}: expected a number of descriptors"]
    problems = []
    needed = max_clients + DAEMON_SLOTS
    print(f"FileDescriptorStoreMax={store_max}; default max-clients {max_clients} "
          f"and {DAEMON_SLOTS} for the daemon need {needed}")
    if int(store_max) < needed:
        problems.append(f"FileDescriptorStoreMax={store_max} is below {needed}: "
                        "a restart would drop clients")
    fdstore = environment(service).get("FDSTORE")
    if fdstore != store_max:
        problems.append(f"Environment=FDSTORE={fdstore}, expected FDSTORE={store_max} "
                        "(systemd 252 does not set it)")
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    daemon = os.environ.get("EPOLLCHATD")
    if not daemon or not os.access(daemon, os.X_OK):
        print(f"EPOLLCHATD={daemon!r} is not an executable", file=sys.stderr)
        return 1
    max_clients = default_max_clients(daemon)
    if max_clients is None:
        return 1
    units = parse_unit(pathlib.Path(sys.argv[1]).read_text())
    problems = check(units.get("Service", {}), max_clients)
    return report(problems, "the file descriptor store holds every client, and the daemon "
                  "knows its size")


if __name__ == "__main__":
    sys.exit(main())
