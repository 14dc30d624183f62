"""The public API: documented, typed, and shaped like the modules it mirrors."""

from __future__ import annotations

import ast
import inspect
import subprocess
from pathlib import Path

import hakoniwa


def test_every_public_name_and_method_has_a_docstring() -> None:
    missing = []
    for name in hakoniwa.__all__:
        obj = getattr(hakoniwa, name)
        if isinstance(obj, int):  # PIPE, DEVNULL, STDOUT: subprocess's constants
            continue
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not (callable(member) or isinstance(member, property)):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_the_package_is_marked_typed() -> None:
    assert (Path(hakoniwa.__file__).parent / "py.typed").is_file()


def test_results_and_errors_are_subprocess_subclasses() -> None:
    assert issubclass(hakoniwa.CompletedProcess, subprocess.CompletedProcess)
    assert issubclass(hakoniwa.CalledProcessError, subprocess.CalledProcessError)
    assert issubclass(hakoniwa.TimeoutExpired, subprocess.TimeoutExpired)
    for e in (hakoniwa.ConfigError, hakoniwa.SetupError, hakoniwa.UnsupportedError,
              hakoniwa.CalledProcessError, hakoniwa.TimeoutExpired):
        assert issubclass(e, hakoniwa.Error)
    assert (hakoniwa.PIPE, hakoniwa.DEVNULL, hakoniwa.STDOUT) == (
        subprocess.PIPE, subprocess.DEVNULL, subprocess.STDOUT)


def test_the_package_modules_import_each_other_without_a_circle() -> None:
    """Every import between the package's modules counts (at module level, inside a
    function, or for type checking only): together they form a chain, not a circle."""
    package = Path(hakoniwa.__file__).parent
    graph: dict[str, set[str]] = {}
    for source in package.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module)
                else:
                    deps.update(alias.name for alias in node.names)
        graph[source.stem] = deps - {source.stem}

    def circle(module: str, path: list[str]) -> list[str]:
        if module in path:
            return path[path.index(module):] + [module]
        for dep in sorted(graph.get(module, ())):
            found = circle(dep, path + [module])
            if found:
                return found
        return []

    for module in sorted(graph):
        if module != "__init__":
            assert circle(module, []) == [], " -> ".join(circle(module, []))
