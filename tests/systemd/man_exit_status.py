#!/usr/bin/env python3
"""A page's EXIT STATUS lists exactly the statuses its program exits with.

Usage: man_exit_status.py PAGE SOURCE...

A SOURCE that is a folder stands for its .cpp and .hpp files.  The program's
statuses are the named ones in its sources, outside comments:
EXIT_SUCCESS and EXIT_FAILURE, the EX_ codes of <sysexits.h> (their values
read from that header), and constants "constexpr int kExit... = N".  The
page's are the tags of the tagged paragraphs in its EXIT STATUS section.
"""

import pathlib
import re
import sys

from roff_page import plain_text, section, tags
from two_lists import agree

SYSEXITS = "/usr/include/sysexits.h"
SYSEXITS_DEFINE = re.compile(r"^#define\s+(EX_[A-Z_]+)\s+(\d+)", re.MULTILINE)
STDLIB = {"EXIT_SUCCESS": 0, "EXIT_FAILURE": 1}
NAMED = re.compile(r"\b(EX_[A-Z_]+|EXIT_SUCCESS|EXIT_FAILURE)\b")
CONSTANT = re.compile(r"\bconstexpr\s+int\s+kExit\w*\s*=\s*(\d+)\s*;")
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
STATUS_TAG = re.compile(r"^\.B\s+(\d+)\s*$")


def source_files(sources: list[str]) -> list[pathlib.Path]:
    files = []
    for source in map(pathlib.Path, sources):
        if source.is_dir():
            files += sorted(p for p in source.iterdir() if p.suffix in (".cpp", ".hpp"))
        else:
            files.append(source)
    return files


def statuses_in_code(sources: list[pathlib.Path]) -> set[int] | None:
    with open(SYSEXITS, encoding="utf-8") as f:
        values = {name: int(value) for name, value in SYSEXITS_DEFINE.findall(f.read())}
    values.update(STDLIB)
    found = set()
    for source in sources:
        with open(source, encoding="utf-8") as f:
            code = COMMENT.sub("", f.read())
        code = re.sub(r"^#include[^\n]*", "", code, flags=re.MULTILINE)
        for name in NAMED.findall(code):
            if name not in values:
                print(f"FAIL: {source} uses {name}, which {SYSEXITS} does not define")
                return None
            found.add(values[name])
        found.update(int(n) for n in CONSTANT.findall(code))
    return found


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    page, sources = sys.argv[1], sys.argv[2:]

    in_code = statuses_in_code(source_files(sources))
    if in_code is None:
        return 1
    if not in_code:
        print(f"FAIL: found no exit status in {' '.join(sources)}")
        return 1
    in_page = set()
    for tag in tags(section(plain_text(page), "EXIT STATUS")):
        if m := STATUS_TAG.match(tag):
            in_page.add(int(m.group(1)))

    ok = agree(in_code, in_page, "CODE")
    if not ok:
        print(f"FAIL: the EXIT STATUS of {page} differs from the code")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
