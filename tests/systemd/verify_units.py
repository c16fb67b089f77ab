#!/usr/bin/env python3
"""`systemd-analyze verify` accepts the units without a single message.

Usage: verify_units.py SERVICE SOCKET... MANPAGE...   (env EPOLLCHATD=built daemon)

Arguments ending in .service or .socket are units, the rest man pages.

The units name /usr/sbin/epollchatd, which need not exist on the build
machine, so they are copied to a scratch directory with that path replaced
by the built binary.  The man pages are laid out as a man tree on MANPATH,
so the check of Documentation=man:... resolves against the pages in man/
rather than against whatever happens to be installed.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

INSTALLED_DAEMON = "/usr/sbin/epollchatd"


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    paths = [pathlib.Path(a) for a in sys.argv[1:]]
    unit_files = [p for p in paths if p.suffix in (".service", ".socket")]
    manpages = [p for p in paths if p not in unit_files]
    daemon = os.environ.get("EPOLLCHATD")
    if not daemon or not os.access(daemon, os.X_OK):
        print(f"EPOLLCHATD={daemon!r} is not an executable", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="epollchat-verify-") as tmp:
        tmpdir = pathlib.Path(tmp)
        units = []
        for unit in unit_files:
            text = unit.read_text()
            copy = tmpdir / unit.name
            copy.write_text(text.replace(INSTALLED_DAEMON, os.path.abspath(daemon)))
            units.append(str(copy))

        mantree = tmpdir / "man"
        for page in manpages:
            section = page.suffix.lstrip(".")
            (mantree / f"man{section}").mkdir(parents=True, exist_ok=True)
            shutil.copy(page, mantree / f"man{section}" / page.name)

        env = dict(os.environ, MANPATH=str(mantree), SYSTEMD_COLORS="0",
                   SYSTEMD_LOG_LEVEL="notice")
        cmd = ["systemd-analyze", "verify", *units]
        print("+", " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              check=False)

    # Any line at all is a warning we want fixed, not tolerated.
    output = (proc.stdout + proc.stderr).strip()
    if output:
        print(output)
    if proc.returncode != 0 or output:
        print(f"FAIL: systemd-analyze verify exited {proc.returncode}"
              f"{' and printed the lines above' if output else ''}")
        return 1
    print(f"OK: {len(units)} units verify cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
