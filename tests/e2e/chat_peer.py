#!/usr/bin/env python3
"""A raw chat client for the end-to-end test: one TCP connection, kept open.

Usage: chat_peer.py [--tls CAFILE] HOST PORT INPUT OUTPUT

Connects to HOST:PORT once (over TLS with --tls, trusting the certificates
in CAFILE) and never reconnects, so the connection the test
looks at is the same one from start to end. Every line the server sends is
appended to OUTPUT as it arrives (one write per line), and every line read
from INPUT (a FIFO the test keeps open for writing) is sent. Lines of its
own in OUTPUT begin with "-- ", which no server line does:
  -- connected              once connect() succeeded (a connection that
                            waits in the listen backlog counts)
  -- end of file            the server closed the connection
  -- error: REASON          the connection failed (a reset, say)
When INPUT ends the client closes the connection and exits 0; when the
server closes it, it exits 0 after "-- end of file"; 1 after an error.
"""

import os
import selectors
import socket
import ssl
import sys


def main() -> int:
    args = sys.argv[1:]
    cafile = None
    if args[:1] == ["--tls"] and len(args) > 1:
        cafile = args[1]
        args = args[2:]
    if len(args) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, input_path, output_path = args
    # The test's other descriptors, the FIFOs of the other clients among them: held here,
    # their writing ends would keep those clients from seeing the end of their input.
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    with open(output_path, "ab", buffering=0) as output:

        def record(line: bytes) -> None:
            output.write(line + b"\n")

        try:
            sock = socket.create_connection((host, int(port)), timeout=10)
            if cafile:
                sock = ssl.create_default_context(cafile=cafile).wrap_socket(
                    sock, server_hostname=host)
        except OSError as error:
            record(f"-- error: connect: {error}".encode())
            return 1
        sock.settimeout(None)
        record(b"-- connected")
        # O_NONBLOCK: the test holds the FIFO open, so open() returns at once anyway.
        source = os.open(input_path, os.O_RDONLY | os.O_NONBLOCK)
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        selector.register(source, selectors.EVENT_READ)
        received = b""
        to_send = b""
        while True:
            for key, _ in selector.select():
                if key.fileobj is sock:
                    try:
                        data = sock.recv(65536)
                        # TLS: what is decrypted already does not wake the selector.
                        while data and isinstance(sock, ssl.SSLSocket) and sock.pending():
                            data += sock.recv(sock.pending())
                    except OSError as error:
                        record(f"-- error: {error}".encode())
                        return 1
                    if not data:
                        if received:
                            record(received)
                        record(b"-- end of file")
                        return 0
                    received += data
                    *lines, received = received.split(b"\n")
                    for line in lines:
                        record(line)
                else:
                    data = os.read(source, 65536)
                    if not data:
                        sock.close()
                        return 0
                    to_send += data
                    # Whole lines only, each as the test wrote it.
                    cut = to_send.rfind(b"\n") + 1
                    try:
                        sock.sendall(to_send[:cut])
                    except OSError as error:
                        record(f"-- error: send: {error}".encode())
                        return 1
                    to_send = to_send[cut:]


if __name__ == "__main__":
    sys.exit(main())
