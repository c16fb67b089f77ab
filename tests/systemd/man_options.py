#!/usr/bin/env python3
"""Every long option that `PROGRAM --help` prints is documented in its page.

Usage: man_options.py PROGRAM PAGE
"""

import re
import subprocess
import sys

LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def page_text(path: str) -> str:
    """The roff source with escapes undone, enough to find option names."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace(r"\-", "-")
    text = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", text)  # font changes
    text = re.sub(r"\\[%&:]", "", text)                 # hyphenation, zero width
    return text


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    program, page = sys.argv[1:]

    proc = subprocess.run([program, "--help"], capture_output=True, text=True,
                          check=False, timeout=20)
    if proc.returncode != 0:
        print(f"FAIL: {program} --help exited {proc.returncode}")
        print(proc.stderr)
        return 1
    options = sorted(set(LONG_OPTION.findall(proc.stdout)))
    if not options:
        print(f"FAIL: {program} --help printed no long options on stdout")
        return 1

    documented = set(LONG_OPTION.findall(page_text(page)))
    missing = [o for o in options if o not in documented]
    for option in options:
        print(f"{'ok     ' if option in documented else 'MISSING'} {option}")
    if missing:
        print(f"FAIL: {page} does not document {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
