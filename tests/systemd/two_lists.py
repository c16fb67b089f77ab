"""Comparing what the code has with what a page lists, item by item."""

from collections.abc import Callable, Hashable, Iterable


def agree(in_code: Iterable[Hashable], in_page: Iterable[Hashable],
          code_name: str, sort_key: Callable = lambda item: item) -> bool:
    """Prints one line per item, in both or missing from one side; true when
    the two lists hold the same items."""
    in_code, in_page = set(in_code), set(in_page)
    width = len(f"NOT IN {code_name} ")
    ok = True
    for item in sorted(in_code | in_page, key=sort_key):
        if item in in_code and item in in_page:
            verdict = "ok"
        elif item in in_code:
            verdict = "NOT IN PAGE"
        else:
            verdict = f"NOT IN {code_name}"
        ok &= verdict == "ok"
        print(f"{verdict:<{width}} {item}")
    return ok
