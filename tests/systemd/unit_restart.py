#!/usr/bin/env python3
"""The service's restart settings keep the promises its comments make.

Usage: unit_restart.py SERVICE

- The start rate limit is set in [Unit], where systemd documents it, and automatic restarts alone never reach it: counting a restart every
  RestartSec from the first start of an interval, fewer than
  StartLimitBurst starts fall in StartLimitIntervalSec, so "systemctl
  restart" by the admin is never refused with "Start request repeated too
  quickly" because of them.
- RestartSec= is seconds, not the 100 ms default that spent the burst at
  once.
- Configuration and usage errors (78, 64) are not restarted, and the
  configuration check before the start cannot defeat that:
  RestartPreventExitStatus= covers only the main process, so a failing
  ExecStartPre= would be restarted, for ever under these limits.  The
  check is therefore "-" (its failure is reported, and the daemon then
  exits 78 itself).
- The check reads the configuration the daemon reads: the same options.
"""

import pathlib
import re
import sys

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|min)?$")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "min": 60.0, None: 1.0}


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections to keys to every value given, in order (no continuation lines)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        assert current is not None, f"{raw!r} before any section"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(value: str) -> float:
    match = DURATION.match(value)
    if not match:
        raise ValueError(f"cannot read the duration {value!r}")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def last(section: dict[str, list[str]], key: str) -> str | None:
    values = section.get(key)
    return values[-1] if values else None


def check(units: dict[str, dict[str, list[str]]]) -> list[str]:
    problems = []
    unit = units.get("Unit", {})
    service = units.get("Service", {})
    for key in ("StartLimitIntervalSec", "StartLimitBurst"):
        if key in service:
            problems.append(f"{key}= is in [Service]; it belongs in [Unit]")
        if key not in unit:
            problems.append(f"{key}= is not set in [Unit]")
    if last(service, "Restart") != "on-failure":
        problems.append(f"Restart={last(service, 'Restart')}, expected on-failure")

    restart_sec = last(service, "RestartSec")
    if restart_sec is None:
        problems.append("RestartSec= is not set: the default 100 ms spends the burst at once")
    elif "StartLimitIntervalSec" in unit and "StartLimitBurst" in unit:
        delay = seconds(restart_sec)
        interval = seconds(last(unit, "StartLimitIntervalSec"))
        burst = int(last(unit, "StartLimitBurst"))
        # Starts at 0, delay, 2 * delay, ... up to and including the interval's end.
        automatic = int(interval // delay) + 1 if delay > 0 else float("inf")
        print(f"RestartSec={restart_sec}: {automatic} automatic starts in "
              f"StartLimitIntervalSec={interval:g}s, StartLimitBurst={burst}")
        if delay < 1:
            problems.append(f"RestartSec={restart_sec} is under a second")
        if automatic >= burst:
            problems.append(f"{automatic} automatic starts fit in {interval:g} s: "
                            f"they reach the burst of {burst} and lock the admin out")

    prevented = " ".join(service.get("RestartPreventExitStatus", [])).split()
    for status in ("64", "78"):
        if status not in prevented:
            problems.append(f"exit status {status} is not in RestartPreventExitStatus=")

    exec_start = service.get("ExecStart", [])
    checks = [v for v in service.get("ExecStartPre", []) if "--check-config" in v.split()]
    if len(exec_start) != 1:
        problems.append(f"expected one ExecStart=, found {exec_start}")
    elif len(checks) != 1:
        problems.append("no ExecStartPre= runs --check-config")
    else:
        check_line = checks[0]
        if not check_line.startswith("-"):
            problems.append(f"ExecStartPre={check_line} fails the start itself: "
                            "RestartPreventExitStatus= does not cover it, so a bad file "
                            "would be restarted")
        if check_line.lstrip("-").split() != exec_start[0].split() + ["--check-config"]:
            problems.append(f"ExecStartPre={check_line} does not check what "
                            f"ExecStart={exec_start[0]} runs")
    return problems


def report(problems: list[str], agreement: str) -> int:
    """Prints each problem, or that all is well; the exit status."""
    for problem in problems:
        print(f"FAIL: {problem}")
    if not problems:
        print(f"OK: {agreement}")
    return 1 if problems else 0


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(parse_unit(pathlib.Path(sys.argv[1]).read_text()))
    return report(problems, "restart delay, start limit and configuration check agree")


if __name__ == "__main__":
    sys.exit(main())
