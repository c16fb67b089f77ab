"""Reading a man page's roff source the way the checks in this folder need it.

Only what the pages here use: sections (.SH) and the tags of tagged
paragraphs (the line after .TP or .TQ), with roff escapes undone far enough
that option names, keys and numbers read as they print.
"""

import re


def plain_text(path: str) -> str:
    """The roff source of the page at path with escapes undone."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace(r"\-", "-")
    text = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", text)  # font changes
    text = re.sub(r"\\[%&:c]", "", text)                # hyphenation, zero width, \c
    return text


def section(text: str, name: str) -> list[str]:
    """The lines of section `.SH name`, up to the next .SH; [] without one."""
    lines = text.splitlines()
    heading = re.compile(r'^\.SH\s+"?' + re.escape(name) + r'"?\s*$')
    for start, line in enumerate(lines):
        if heading.match(line):
            rest = lines[start + 1:]
            end = next((i for i, l in enumerate(rest) if l.startswith(".SH")), len(rest))
            return rest[:end]
    return []


def tags(lines: list[str]) -> list[str]:
    """The tag lines of the tagged paragraphs (.TP, .TQ) among lines."""
    return [lines[i + 1] for i, line in enumerate(lines[:-1])
            if re.match(r"^\.T[PQ]\b", line)]
