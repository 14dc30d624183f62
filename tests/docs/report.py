"""The report of the documentation checks (links.py, modules.py): each failure on its own
line, then `NAME: N passed, M failed`; the exit status is 1 when anything failed."""
from typing import Iterable, Tuple


def report(name: str, results: Iterable[Tuple[bool, str]]) -> int:
    """Print the message of every failed check in `results` ((ok, message) pairs)."""
    passed = failed = 0
    for ok, message in results:
        if ok:
            passed += 1
        else:
            failed += 1
            print(message)
    print(f"{name}: {passed} passed, {failed} failed")
    return 1 if failed else 0
