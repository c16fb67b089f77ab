#!/usr/bin/env python3
"""epollchatd.socket listens on IPv4 and IPv6 loopback at the daemon's port.

Usage: socket_addresses.py SOCKET_UNIT CONF_FILE

The port is the default the shipped epollchatd.conf documents ("# port = N"),
so the socket and the service agree. Then both addresses are bound at one
free port the way systemd binds them with BindIPv6Only=default (the option
left alone): the IPv6 loopback socket must not clash with the IPv4 one.
"""

import re
import socket
import sys

EXPECTED_HOSTS = ["127.0.0.1", "[::1]"]


def listen_streams(unit_text):
    streams = []
    for line in unit_text.splitlines():
        match = re.fullmatch(r"\s*ListenStream\s*=\s*(.*?)\s*", line)
        if match:
            streams = [] if not match.group(1) else streams + [match.group(1)]
    return streams


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    unit, conf = (open(path, encoding="utf-8").read() for path in sys.argv[1:])
    port = re.search(r"^#\s*port\s*=\s*(\d+)\s*$", conf, re.MULTILINE)
    if not port:
        print(f"FAIL: no '# port = N' line in {sys.argv[2]}")
        return 1
    expected = [f"{host}:{port.group(1)}" for host in EXPECTED_HOSTS]
    streams = listen_streams(unit)
    print(f"ListenStream: {streams}")
    if streams != expected:
        print(f"FAIL: expected {expected}")
        return 1

    v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    v4.bind(("127.0.0.1", 0))
    free_port = v4.getsockname()[1]
    v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        v6.bind(("::1", free_port))
    except OSError as error:
        print(f"FAIL: [::1]:{free_port} cannot be bound beside 127.0.0.1:{free_port}: {error}")
        return 1
    finally:
        v6.close()
        v4.close()
    print(f"OK: {', '.join(expected)}; [::1] and 127.0.0.1 share a port")
    return 0


if __name__ == "__main__":
    sys.exit(main())
