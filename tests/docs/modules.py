#!/usr/bin/env python3
"""Check that ARCHITECTURE.md names every source module of the engine, runtime, seccomp and
CLI crates, so that its module map stays complete as modules are added.

A module `DIR/NAME.rs` counts as named when the document contains its path, or a line that
contains both `` `DIR/`` and `` `NAME.rs` `` (the list's shorthand for several modules of one
directory); the files of a subdirectory count as named when the subdirectory's path is.
A function named next to files (a paragraph or list item holding paths `` `DIR/FILE.rs` ``
and `` `fn NAME` ``) must be defined in one of them, so the "Finding your way" pointers stay true.
Prints `N passed, M failed` and exits 1 when a module or function is missing.
"""
import pathlib
import re
import sys

from report import report

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIRS = ["engine/src", "engine/runtime/src", "engine/seccomp/src", "cli/src"]


def named(text: str, lines: list, rel: pathlib.PurePosixPath, top: str) -> bool:
    if str(rel) in text:
        return True
    sub = rel.parent
    if str(sub) != top and f"{sub}/" in text:
        return True
    return any(f"`{top}/" in l and f"`{rel.name}`" in l for l in lines) or any(
        f"`{rel}`" in l for l in lines
    )


def checks():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    for top in DIRS:
        for f in sorted((ROOT / top).rglob("*.rs")):
            rel = pathlib.PurePosixPath(f.relative_to(ROOT).as_posix())
            yield (named(text, lines, rel, top),
                   f"ARCHITECTURE.md does not name {rel} (add it to the module list)")
    # The items of a list and the paragraphs, each on one line.
    for item in re.split(r"\n\s*\n|\n(?=- )", text):
        paths = re.findall(r"`((?:engine|cli|capi)/[\w/]+\.rs)`", item)
        sources = [(ROOT / p).read_text(encoding="utf-8") for p in paths if (ROOT / p).is_file()]
        for fn in re.findall(r"`fn (\w+)`", item):
            yield (any(re.search(rf"\bfn {fn}\b", src) for src in sources),
                   f"ARCHITECTURE.md names `fn {fn}` next to {paths}, none of which defines it")

if __name__ == "__main__":
    sys.exit(report("modules", checks()))
