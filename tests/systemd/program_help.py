"""The options a program lists in its --help output."""

import re
import subprocess

# "  -c, --config FILE   ...", "      --tls   ...", "  -h, --help   ..."
HELP_OPTION_LINE = re.compile(r"^\s+(-[A-Za-z](?=[ ,])|--[a-z][a-z0-9-]*)"
                              r"(?:,\s+(--[a-z][a-z0-9-]*))?")


def help_options(program: str) -> set[str] | None:
    """The short and long options of `program --help`, or None (after saying
    why) when it fails or lists none."""
    proc = subprocess.run([program, "--help"], capture_output=True, text=True,
                          check=False, timeout=20)
    if proc.returncode != 0:
        print(f"FAIL: {program} --help exited {proc.returncode}")
        print(proc.stderr)
        return None
    options = set()
    for line in proc.stdout.splitlines():
        if m := HELP_OPTION_LINE.match(line):
            options.update(o for o in m.groups() if o)
    if not options:
        print(f"FAIL: {program} --help printed no option lines on stdout")
        return None
    return options
