#!/usr/bin/env python3
"""Runs debian/tests/control (DEP-8) in the booted end-to-end container.

Usage: run-debian-tests.py CONTAINER_PID CONTAINER_ROOT PORT   (as root)

What autopkgtest's null runner does, inside the container that run-e2e.sh
booted and installed the .debs into: every stanza of debian/tests/control is
read, its Depends must be installed, its Restrictions must be ones this
testbed provides (a booted container with root: isolation-container,
needs-root), and each test runs as root from a copy of the source's debian/
with AUTOPKGTEST_TMP and AUTOPKGTEST_ARTIFACTS set. A test passes when it
exits 0 and, unless it allows stderr, writes nothing there. autopkgtest
itself is not used: the container's minbase root has neither it nor python3,
and its apt has nothing to fetch them from. A restriction this runner does
not know fails the run instead of skipping the test.

PORT is the one the e2e test gave the service; the tests get it as
EPOLLCHATD_PORT.
"""

import pathlib
import re
import shutil
import subprocess
import sys

PROVIDED = {"needs-root", "isolation-container", "allow-stderr"}
SRC = pathlib.Path(__file__).resolve().parents[2]
TEST_TIMEOUT = 300


def stanzas(text):
    """deb822 paragraphs as dicts; comment lines dropped, continuations joined."""
    result, fields, last = [], {}, None
    for line in text.splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                result.append(fields)
            fields, last = {}, None
        elif line[0] in " \t":
            fields[last] += " " + line.strip()
        else:
            last, _, value = line.partition(":")
            last = last.strip().lower()
            fields[last] = value.strip()
    return result


def inside(pid, argv, **kwargs):
    env = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME=/root", "LANG=C.UTF-8", "TERM=dumb"]
    return subprocess.run(["nsenter", "-t", str(pid), "-a", *env, *argv],
                          check=False, **kwargs)


def installed(pid, package):
    out = inside(pid, ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
                 capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.startswith("ii")


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    pid, root, port = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    control = SRC / "debian/tests/control"
    tests = []
    for stanza in stanzas(control.read_text()):
        restrictions = set(re.split(r"[\s,]+", stanza.get("restrictions", "").strip())) - {""}
        unknown = restrictions - PROVIDED
        if unknown:
            print(f"FAIL: {control}: restrictions this testbed does not provide: "
                  f"{' '.join(sorted(unknown))}")
            return 1
        depends = [alt.strip() for alt in stanza.get("depends", "@").split(",") if alt.strip()]
        for dep in depends:
            names = [re.split(r"[\s(\[:]", choice.strip())[0] for choice in dep.split("|")]
            if dep != "@" and not any(installed(pid, name) for name in names):
                print(f"FAIL: {control}: the dependency {dep} is not installed")
                return 1
        if "tests" in stanza:
            for name in stanza["tests"].split():
                tests.append((name, [f"debian/tests/{name}"], restrictions))
        elif "test-command" in stanza:
            tests.append((f"command{len(tests) + 1}", ["sh", "-c", stanza["test-command"]],
                          restrictions))
    if not tests:
        print(f"FAIL: {control} names no test")
        return 1

    work = root / "var/tmp/debian-tests"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(SRC / "debian", work / "src/debian", symlinks=True)
    failed = 0
    for name, argv, restrictions in tests:
        for sub in ("tmp", "artifacts"):
            (work / f"{name}-{sub}").mkdir(parents=True)
        inner = "/var/tmp/debian-tests"
        print(f"--- {name} (restrictions: {' '.join(sorted(restrictions)) or 'none'})", flush=True)
        try:
            run = inside(pid, ["env", f"AUTOPKGTEST_TMP={inner}/{name}-tmp",
                               f"AUTOPKGTEST_ARTIFACTS={inner}/{name}-artifacts",
                               f"EPOLLCHATD_PORT={port}", "sh", "-c",
                               f'cd {inner}/src && exec "$@" </dev/null', "sh", *argv],
                         capture_output=True, text=True, timeout=TEST_TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"{name} FAIL timed out after {TEST_TIMEOUT} s")
            failed += 1
            continue
        print(run.stdout, end="")
        if run.stderr:
            print("stderr:\n" + run.stderr, end="")
        if run.returncode != 0:
            print(f"{name} FAIL non-zero exit status {run.returncode}")
            failed += 1
        elif run.stderr and "allow-stderr" not in restrictions:
            print(f"{name} FAIL stderr")
            failed += 1
        else:
            print(f"{name} PASS")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
