"""docs/container.md's JSON examples are accepted by Container.from_json (the library's
hakoniwa_container_from_json) and do what the page says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, List

import hakoniwa

PAGE = Path(__file__).resolve().parent.parent.parent / "docs" / "container.md"


def blocks() -> List[Any]:
    found = re.findall(r"^```json\n(.*?)^```", PAGE.read_text(), flags=re.S | re.M)
    assert len(found) == 2, "docs/container.md: a JSON block this test does not cover"
    return [json.loads(b) for b in found]


def test_the_landlock_object_of_docs_container_md_restricts_the_filesystem() -> None:
    landlock = blocks()[0]
    box = hakoniwa.Container.from_json({"version": 1, "rootfs": "/", "landlock": landlock})
    try:
        out = box.command("/bin/sh", "-c", "ls /etc 2>&1; /usr/bin/true && echo rx").output()
    except hakoniwa.Error as e:
        # A kernel older than the example's "enforce" restrictions need (signal scoping:
        # landlock ABI 6) refuses it, naming what is missing, rather than run unprotected.
        assert "landlock" in str(e) and "ABI" in str(e), e
        return
    assert out.stdout.decode().splitlines() == [
        "ls: cannot open directory '/etc': Permission denied", "rx"]
    enforced = out.status.enforcement.landlock
    assert enforced is not None and enforced["abi"] >= 1


def test_the_example_container_of_docs_container_md_has_its_cpu_limit_tmp_and_dev() -> None:
    doc = blocks()[1]
    box = hakoniwa.Container.from_json(doc)
    script = "ulimit -t; test -d /tmp && test -c /dev/null && echo tmp and dev"
    out = box.command("/bin/sh", "-c", script).output()
    assert out.stdout == b"10\ntmp and dev\n", out
