#!/usr/bin/env python3
"""Check a capability example's output against what it must print, or the pages showing them.

    check.py NAME [FILE]     (FILE defaults to stdin)
    check.py --docs

The C, Go and Python examples of one capability (tests/c/examples/NAME.c,
tests/go/examples/NAME/main.go, bindings-python/examples/NAME.py) print the same lines;
`NAME.expected`, next to this script, holds them: each line is a regular expression the
output's line must match in full, and a line `...` matches any number of lines. Exits 1,
showing both, when the output differs.

With --docs: docs/c.md, docs/go.md and docs/python.md each show every example of their
language verbatim, in the order of NAMES, as a link to the file, a blank line, then the
file in a fenced block (the convention of docs/rust.md and engine/examples/); and the pages
have no other code block of that language than these and the README's example; the
go.mod lines docs/go.md shows are those of tests/go/go.mod.
"""
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NAMES = ["namespaces", "mounts", "network", "limits", "landlock", "seccomp", "io", "usage"]


def matches(expected: list, actual: list) -> bool:
    if not expected:
        return not actual
    first, rest = expected[0], expected[1:]
    if first == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and re.fullmatch(first, actual[0]) is not None and matches(rest, actual[1:])


def expected(name: str) -> list:
    return (HERE / f"{name}.expected").read_text(encoding="utf-8").splitlines()


# language: (page, fence, path of NAME's example, the README example the page also shows)
PAGES = {
    "c": ("docs/c.md", "c", "tests/c/examples/{}.c", "tests/c/readme.c"),
    "go": ("docs/go.md", "go", "tests/go/examples/{}/main.go", "tests/go/readme/main.go"),
    "python": ("docs/python.md", "python", "bindings-python/examples/{}_example.py",
               "bindings-python/examples/readme_example.py"),
}


def check_docs() -> int:
    failed = 0
    for page, fence, pattern, readme in PAGES.values():
        doc = (ROOT / page).read_text(encoding="utf-8")
        last = -1
        for name in NAMES:
            rel = pattern.format(name)
            code = (ROOT / rel).read_text(encoding="utf-8")
            block = f"[`{rel}`](../{rel}):\n\n```{fence}\n{code}```\n"
            at = doc.find(block)
            if at < 0:
                print(f"{page} does not show {rel} as it is (a link, then the file in a {fence} block)")
                failed += 1
            elif at < last:
                print(f"{page} shows {rel} out of order ({', '.join(NAMES)})")
                failed += 1
            last = max(last, at)
        shown = len(NAMES) + (readme is not None)
        if doc.count(f"```{fence}\n") != shown:
            print(f"{page} has {fence} code that is neither an example nor {readme}")
            failed += 1
    # docs/go.md's ```text block is the part of tests/go/go.mod that uses the package.
    go_md = (ROOT / "docs/go.md").read_text(encoding="utf-8")
    go_mod = (ROOT / "tests/go/go.mod").read_text(encoding="utf-8")
    blocks = re.findall(r"^```text\n(.*?)^```", go_md, flags=re.S | re.M)
    if len(blocks) != 1 or blocks[0] not in go_mod:
        print("docs/go.md's text block is not a part of tests/go/go.mod")
        failed += 1
    print(f"examples in docs: {len(PAGES) * len(NAMES)} checked, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    if sys.argv[1:] == ["--docs"]:
        return check_docs()
    name = sys.argv[1]
    text = open(sys.argv[2], encoding="utf-8").read() if len(sys.argv) > 2 else sys.stdin.read()
    want = expected(name)
    if matches(want, text.splitlines()):
        return 0
    print(f"the {name} example printed:\n{text}\nbut must print (regular expressions):\n"
          + "\n".join(want), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
