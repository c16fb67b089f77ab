#!/usr/bin/env python3
"""Each man page renders without a single warning.

Usage: man_render.py PAGE...

groff -ww -z -man must print nothing; so must `man --warnings -l`, which
adds man-db's preprocessor and line-length checks.  man-db is optional on a
build machine (a Debian build chroot lacks it); groff is not.
"""

import os
import shutil
import subprocess
import sys


def run_quiet(cmd: list[str], env: dict[str, str]) -> bool:
    """Runs cmd; true when it exits 0 and prints nothing on stderr."""
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    problems = proc.stderr.strip()
    if proc.returncode != 0 or problems:
        print(f"FAIL: {' '.join(cmd)} (exit {proc.returncode})")
        if problems:
            print(problems)
        return False
    return True


def main() -> int:
    pages = sys.argv[1:]
    if not pages:
        print(__doc__, file=sys.stderr)
        return 2
    if not shutil.which("groff"):
        print("FAIL: groff not found (install groff-base)")
        return 1
    use_man = shutil.which("man") is not None
    if not use_man:
        print("note: man not found, checked with groff only (install man-db)")

    env = dict(os.environ, LANG="C.UTF-8", MANPAGER="cat", PAGER="cat",
               MANWIDTH="80")
    ok = True
    for page in pages:
        page_ok = run_quiet(["groff", "-ww", "-z", "-man", page], env)
        if use_man:
            page_ok &= run_quiet(["man", "--warnings", "-l", page], env)
        print(f"{'ok  ' if page_ok else 'FAIL'} {os.path.basename(page)}")
        ok &= page_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
