"""The journal: crash + rerun, rollback on failure, torn lines, the lock. No Spark."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from file_records import remediation as rm
from tests.remediation.helpers import Crash, sha, standard_plan


def _tree_without_journal(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != rm.JOURNAL_NAME)


@pytest.mark.parametrize("crash_at", ["after_copy", "after_place", "after_verify", "after_move", "after_stub"])
def test_crash_midway_then_rerun_completes(env, crash_at):
    f = env["files"]
    plan = standard_plan(env)
    crashing_row = plan[1].row

    def hook(step, r):
        if step == crash_at and r.row == crashing_row:
            raise Crash(step)

    with pytest.raises(Crash):
        rm.remediate(plan, env["archive"], apply=True, hook=hook)
    # Nothing lost at the moment of the crash: each file is at its source or archived intact.
    for rel, data in f.items():
        src = env["share"] / rel
        archived = list((env["archive"] / sha(data)).glob(src.name)) if (env["archive"] / sha(data)).exists() else []
        assert (src.exists() and src.read_bytes() == data) or any(a.read_bytes() == data for a in archived)

    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.exit_code == 0, report.to_dict()
    assert [r.status for r in report.results] == ["already_done", "done", "done"]
    if crash_at != "after_copy":
        assert "resumed" in report.results[1].message
    # exactly one archived copy per file, one stub per file, no temporary leftovers
    expected = sorted(f"{sha(d)}/{Path(rel).name}" for rel, d in f.items())
    assert _tree_without_journal(env["archive"]) == expected
    for rel, data in f.items():
        src = env["share"] / rel
        assert not src.exists()
        assert (env["archive"] / sha(data) / src.name).read_bytes() == data
        assert src.with_name(src.name + ".archived.txt").exists()
        assert not src.with_name(src.name + ".archived (2).txt").exists()
    assert not [p for p in env["tmp"].rglob("*") if p.name.endswith((".partial", ".restoring"))]
    # and the whole thing can still be undone byte for byte
    assert rm.undo(report.journal).ok
    for rel, data in f.items():
        assert (env["share"] / rel).read_bytes() == data


def test_failure_before_move_rolls_back(env):
    plan = standard_plan(env)

    def hook(step, r):
        if step == "after_place" and r.row == plan[0].row:
            raise RuntimeError("disk hiccup")

    report = rm.remediate(plan, env["archive"], apply=True, hook=hook)
    assert [r.status for r in report.results] == ["failed", "done", "done"]
    assert "disk hiccup" in report.results[0].message
    src = env["share"] / "Archive/Copies/payroll (1).xlsx"
    assert src.read_bytes() == env["files"]["Archive/Copies/payroll (1).xlsx"]
    assert not (env["archive"] / sha(src.read_bytes())).exists()  # archive copy rolled back
    # the rerun archives it properly
    again = rm.remediate(plan, env["archive"], apply=True)
    assert [r.status for r in again.results] == ["done", "already_done", "already_done"]


def test_torn_journal_line_tolerated(env):
    plan = standard_plan(env)
    report = rm.remediate(plan[:1], env["archive"], apply=True)
    with open(report.journal, "ab") as fh:
        fh.write(b'{"event": "start", "key": "tor')  # crash mid-write
    again = rm.remediate(plan, env["archive"], apply=True)
    assert [r.status for r in again.results] == ["already_done", "done", "done"]
    for line in Path(report.journal).read_bytes().splitlines()[-3:]:
        orjson.loads(line)


def test_journal_lock(env):
    env["archive"].mkdir()
    j = rm.Journal(env["archive"] / rm.JOURNAL_NAME, "x")
    try:
        with pytest.raises(rm.PlanError, match="in use"):
            rm.remediate(standard_plan(env), env["archive"], apply=True)
    finally:
        j.close()
