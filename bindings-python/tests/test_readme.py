"""The README's example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_example_runs_and_prints_what_it_says() -> None:
    blocks = python_blocks()
    assert len(blocks) == 1
    out = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("hello from ") and lines[1] == str(__import__("os").getuid())
    assert lines[2].startswith("exited ")
    assert lines[3] == "chdir /no/such/dir 2"


def test_the_example_file_is_the_readme_example() -> None:
    example = README.parent / "examples" / "readme_example.py"
    assert python_blocks()[0] in example.read_text()


def test_the_top_readme_and_docs_python_md_show_the_example_verbatim() -> None:
    block = python_blocks()[0]
    repo = README.parent.parent
    for page in (repo / "README.md", repo / "docs" / "python.md"):
        assert f"```python\n{block}```" in page.read_text(), page
