"""The capability examples of docs/python.md (bindings-python/examples/NAME_example.py) run
and print what tests/examples/NAME.expected says, the same lines as their C and Go twins."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
CHECK = HERE.parent.parent / "tests" / "examples" / "check.py"


def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_check", CHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NAMES: list[str] = checker().NAMES


def test_every_capability_has_a_python_example_and_nothing_else_is_there() -> None:
    found = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert found == sorted([f"{n}_example.py" for n in NAMES] + ["readme_example.py"])


@pytest.mark.parametrize("name", NAMES)
def test_the_capability_example_prints_what_its_expected_file_says(name: str) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}_example.py")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    check = checker()
    assert check.matches(check.expected(name), out.stdout.splitlines()), (
        f"{name}_example.py printed:\n{out.stdout}\nexpected (regular expressions):\n"
        + "\n".join(check.expected(name)) + f"\nstderr:\n{out.stderr}"
    )


def test_the_output_check_rejects_a_wrong_line() -> None:
    check = checker()
    good = ["captured: to stdout", "captured: to stderr", "code: 3", "tr: SHOUT", "fd 5: through fd 5"]
    assert check.matches(check.expected("io"), good)
    assert not check.matches(check.expected("io"), good[:-1] + ["fd 5: through fd 3"])
    assert not check.matches(check.expected("io"), good + ["extra"])


def test_the_commands_of_docs_python_md_run_as_printed() -> None:
    """Each line of the page's sh blocks: the install line is what ci.sh runs (in a fresh
    venv, from the source tree); the others run as printed from the repository's root, with
    this interpreter's directory first on PATH (the venv the package is installed in)."""
    repo = HERE.parent.parent
    page = (repo / "docs" / "python.md").read_text()
    lines = [line.split("  #")[0].strip()
             for block in re.findall(r"^```sh\n(.*?)^```", page, flags=re.S | re.M)
             for line in block.splitlines()]
    assert "pip install ./bindings-python" in lines
    assert '"$work/from-source/bin/pip" install "${pip_q[@]}" "$here"' in (HERE.parent / "ci.sh").read_text()
    ran = 0
    for line in lines:
        if line == "pip install ./bindings-python":
            continue
        name = re.fullmatch(r"python3 bindings-python/examples/(\w+)_example\.py", line)
        assert name, f"docs/python.md: a command this test does not know how to check: {line}"
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        out = subprocess.run(["sh", "-c", line], cwd=repo, env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        check = checker()
        assert check.matches(check.expected(name.group(1)), out.stdout.splitlines()), out.stdout
        ran += 1
    assert ran >= 1
