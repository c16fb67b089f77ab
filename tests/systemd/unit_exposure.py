#!/usr/bin/env python3
"""The service's `systemd-analyze security` exposure is at most MAX.

Usage: unit_exposure.py SERVICE [MAX]   (MAX defaults to 1.0)

Prints the score and the items that still cost something, so a failure
shows what changed.
"""

import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

OVERALL = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    service = pathlib.Path(sys.argv[1])
    limit = float(sys.argv[2]) if len(sys.argv) == 3 else 1.0

    # --offline reads the file named; a private copy keeps any drop-ins
    # installed on this machine out of the measurement.
    with tempfile.TemporaryDirectory(prefix="epollchat-security-") as tmp:
        copy = pathlib.Path(tmp) / service.name
        shutil.copy(service, copy)
        cmd = ["systemd-analyze", "security", "--offline=true", "--no-pager",
               str(copy)]
        print("+", " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
                                   "SYSTEMD_COLORS": "0", "LANG": "C.UTF-8"})

    for line in proc.stdout.splitlines():
        if line.startswith("✗"):
            print(line.rstrip())
    if proc.stderr.strip():
        print(proc.stderr.strip())
    match = OVERALL.search(proc.stdout)
    if proc.returncode != 0 or not match:
        print(proc.stdout)
        print(f"FAIL: systemd-analyze security exited {proc.returncode} "
              "without an overall exposure level")
        return 1

    score = float(match.group(1))
    print(f"exposure {score:.1f} (limit {limit:.1f})")
    if score > limit:
        print(f"FAIL: exposure {score:.1f} is above {limit:.1f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
