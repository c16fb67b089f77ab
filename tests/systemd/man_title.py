#!/usr/bin/env python3
"""Each page's .TH line carries the release's date and version.

Usage: man_title.py VERSION DATE PAGE...

VERSION and DATE are what meson.build says (project version, release_date);
the pages get them when the build makes them from man/*.in.  DATE must be a
real calendar date, YYYY-MM-DD.
"""

import datetime
import os
import shlex
import sys


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    version, date, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
    ok = True
    try:
        datetime.date.fromisoformat(date)
    except ValueError:
        print(f"FAIL: release date {date!r} is not a date YYYY-MM-DD")
        ok = False
    for page in pages:
        with open(page, encoding="utf-8") as f:
            title = next((l for l in f if l.startswith(".TH ")), "")
        fields = shlex.split(title)[1:]
        # .TH NAME SECTION DATE SOURCE MANUAL
        name = os.path.basename(page)
        if len(fields) != 5 or fields[2] != date or fields[3] != f"epollchat {version}":
            print(f"FAIL {name}: {title.strip()!r}; expected date {date} and "
                  f"source \"epollchat {version}\"")
            ok = False
        else:
            print(f"ok   {name}: {title.strip()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
