"""ExitStatus: frozen, complete, and to_dict() identical in shape to the CLI's --json-status."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path
from typing import Any, List, Mapping, Tuple

import pytest

import hakoniwa


def cli() -> str:
    path = os.environ.get("HAKONIWA_CLI")
    if not path:
        pytest.fail("HAKONIWA_CLI must name the hakoniwa CLI binary (bindings-python/ci.sh sets it)")
    return path


def test_exit_status_is_a_frozen_dataclass_with_usage_and_enforcement() -> None:
    s = hakoniwa.run(["sh", "-c", "exit 4"]).status
    assert dataclasses.is_dataclass(s)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.code = 0  # type: ignore[misc]
    assert (s.reason, s.code, s.exit_code, s.signal, s.core_dumped) == ("exited", 4, 4, None, False)
    assert s.real_time > 0 and s.user_time >= 0 and s.system_time >= 0
    assert s.max_rss_kb is not None and s.max_rss_kb > 0 and s.minor_faults > 0
    assert s.voluntary_switches >= 0 and s.involuntary_switches >= 0
    e = s.enforcement
    assert {"user", "mount", "pid"} <= set(e.namespaces)
    assert e.seccomp is not None
    assert e.setup_ms is not None and "total" in e.setup_ms and e.setup_ms["total"] > 0
    assert s == hakoniwa.ExitStatus(**{f.name: getattr(s, f.name) for f in dataclasses.fields(s)})


def test_to_dict_has_the_same_keys_and_values_as_the_cli_json_status(tmp_path: Path) -> None:
    doc = tmp_path / "status.json"
    subprocess.run([cli(), "run", "--json-status", str(doc), "--", "/bin/sh", "-c", "exit 3"])
    from_cli = json.loads(doc.read_text())
    from_py = hakoniwa.run(["/bin/sh", "-c", "exit 3"]).status.to_dict()
    assert sorted(from_py) == sorted(from_cli)
    for key in ("reason", "code", "exit_code", "signal", "core_dumped", "limit", "namespaces"):
        assert from_py[key] == from_cli[key], key
    for key in ("seccomp", "landlock", "capabilities"):
        assert type(from_py[key]) is type(from_cli[key]), key


def test_to_dict_returns_a_fresh_dict_every_time() -> None:
    s = hakoniwa.run(["true"]).status
    d = s.to_dict()
    d["code"] = 99
    assert s.to_dict()["code"] == 0 and s.code == 0


def thawed(value: Any) -> Any:
    """A read-only status value as plain JSON data (mapping proxies to dicts, tuples to lists)."""
    if isinstance(value, Mapping):
        return {k: thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thawed(v) for v in value]
    return value


def test_every_status_field_says_what_the_json_document_says() -> None:
    """The fields come from the library's structs and its outcome text (parsed once per
    distinct text and reused); whatever way runs end, one after another, each field must
    equal the status document's, nested key order included."""
    landlocked = hakoniwa.Container().rootfs("/").landlock(rx=["/usr"], ro=["/etc"])
    no_seccomp = hakoniwa.Container().rootfs("/").seccomp("unconfined")
    statuses = [
        hakoniwa.run(["/bin/true"]).status,
        hakoniwa.run(["sh", "-c", "exit 3"]).status,
        hakoniwa.run(["/bin/true"]).status,
        hakoniwa.run(["sh", "-c", "kill -KILL $$"]).status,
        hakoniwa.run(["sleep", "5"], wait_timeout=0.1).status,
        hakoniwa.run(["/bin/true"], container=landlocked).status,
        hakoniwa.run(["sh", "-c", "exit 3"], container=no_seccomp).status,
    ]
    assert [s.reason for s in statuses] == [
        "exited", "exited", "exited", "signaled", "wall_time_exceeded", "exited", "exited"]
    for s in statuses:
        # Every field is set once one was read (the statuses are assembled without the
        # dataclass __init__, the measurements on first access).
        assert s.minor_faults > 0
        assert vars(s).keys() == {f.name for f in dataclasses.fields(s)}
        assert vars(s.enforcement).keys() == {f.name for f in dataclasses.fields(s.enforcement)}
        d = s.to_dict()
        for name in ("reason", "code", "exit_code", "signal", "core_dumped", "real_time",
                     "user_time", "system_time", "max_rss_kb", "minor_faults", "major_faults",
                     "voluntary_switches", "involuntary_switches"):
            assert getattr(s, name) == d[name], (name, s)
        e = s.enforcement
        assert e.no_new_privs == d["no_new_privs"]
        for name in ("namespaces", "capabilities", "landlock", "seccomp", "setup_ms"):
            # json.dumps keeps the key order: equal texts are equal values in the same order.
            assert json.dumps(thawed(getattr(e, name))) == json.dumps(d[name]), name
    assert statuses[5].enforcement.landlock is not None and statuses[6].enforcement.seccomp is None


def test_the_measurements_read_late_are_those_of_the_run_even_after_the_handles_are_gone() -> None:
    """A status gets its measurements from the library when one is first read: that works
    after the Popen and its child handle are gone, from many threads at once (all see the
    same values), and the return code never needs them."""
    import gc
    import threading

    statuses = []
    for _ in range(3):
        with hakoniwa.Popen(["sh", "-c", "exit 5"]) as p:
            p.wait()
        assert p.returncode == 5 and p.status is not None
        statuses.append(p.status)
        del p
    gc.collect()
    for s in statuses:
        assert "_late" in vars(s) and s.returncode == 5 and "_late" in vars(s)
    seen: List[Tuple[Any, float, int]] = []
    barrier = threading.Barrier(8)

    def read(s: hakoniwa.ExitStatus) -> None:
        barrier.wait()
        seen.append((s.enforcement, s.real_time, s.minor_faults))

    threads = [threading.Thread(target=read, args=(statuses[0],)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(x is seen[0][0] for x, _, _ in seen)
    assert len({(r, f) for _, r, f in seen}) == 1
    for s in statuses:
        d = s.to_dict()
        assert (s.real_time, s.minor_faults, s.max_rss_kb) == (d["real_time"], d["minor_faults"], d["max_rss_kb"])
        assert s.enforcement.setup_ms is not None and dict(s.enforcement.setup_ms) == d["setup_ms"]
    with pytest.raises(AttributeError):
        statuses[1].no_such_field  # type: ignore[attr-defined]
