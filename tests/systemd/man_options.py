#!/usr/bin/env python3
"""A page's OPTIONS are exactly the options that `PROGRAM --help` lists.

Usage: man_options.py PROGRAM PAGE

The options of --help are read from its option lines ("  -c, --config FILE",
"      --tls"); those of the page from the tags of the tagged paragraphs in
its OPTIONS section.  Short and long options both count, so an option that
only one of them knows, or a short form that only one of them gives, fails.
"""

import re
import sys

from program_help import help_options
from roff_page import plain_text, section, tags
from two_lists import agree

OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[A-Za-z](?![\w-]))")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    program, page = sys.argv[1:]

    in_help = help_options(program)
    if in_help is None:
        return 1
    in_page = set()
    for tag in tags(section(plain_text(page), "OPTIONS")):
        in_page.update(OPTION.findall(tag))

    ok = agree(in_help, in_page, "--help", sort_key=lambda o: o.lstrip("-"))
    if not ok:
        print(f"FAIL: the OPTIONS of {page} differ from {program} --help")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
