#!/usr/bin/env python3
"""Check that every relative link in the repository's Markdown files resolves.

A link `[text](path)` or `[text](path#anchor)` must name a file or directory that exists
(relative to the Markdown file), and an anchor must match a heading of the target file
(GitHub's slug rules: lower case, punctuation dropped, spaces to hyphens). External links
(http, https, mailto) are not fetched: tests never need the internet.

Prints `N passed, M failed` and exits 1 when a link is broken.
"""
import pathlib
import re
import subprocess
import sys

from report import report

ROOT = pathlib.Path(__file__).resolve().parents[2]
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(heading: str) -> str:
    s = heading.strip().lower()
    s = re.sub(r"`", "", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path: pathlib.Path) -> set:
    out, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and line.startswith("#"):
            out.add(slug(line.lstrip("#")))
    return out


def links(path: pathlib.Path):
    fenced = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        line = re.sub(r"`[^`]*`", "", line)  # code spans are not links
        for m in LINK.finditer(line):
            yield n, m.group(1) or m.group(2)


def checks():
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "*.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    for rel in files:
        md = ROOT / rel
        if not md.exists():
            continue
        for n, target in links(md):
            if re.match(r"^[a-z]+:", target):
                continue  # external: not fetched
            file_part, _, anchor = target.partition("#")
            dest = (md.parent / file_part).resolve() if file_part else md
            ok = dest.exists()
            if ok and anchor and dest.is_file() and dest.suffix == ".md":
                ok = anchor in anchors(dest)
            yield ok, f"{rel}:{n}: broken link {target}"


if __name__ == "__main__":
    sys.exit(report("links", checks()))
