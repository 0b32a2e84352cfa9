"""Undo: byte-identical restore, refusing to overwrite, after a crash, recreated folders. No Spark."""

from __future__ import annotations

import pytest

from file_records import remediation as rm
from tests.remediation.helpers import Crash, sha, snapshot, standard_plan


def test_undo_restores_byte_identical(env):
    before = snapshot(env["share"])
    plan = standard_plan(env)
    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.ok
    restored = rm.undo(report.journal)
    assert restored.exit_code == 0, restored.to_dict()
    assert [r.status for r in restored.results] == ["done"] * 3
    assert snapshot(env["share"]) == before  # bytes and mtimes, no stubs left
    leftovers = [p for p in env["archive"].rglob("*") if p.name != rm.JOURNAL_NAME]
    assert leftovers == []
    # undo again: nothing left to undo; a new apply works again from scratch
    assert rm.undo(report.journal).results == []
    assert rm.remediate(plan, env["archive"], apply=True).ok


def test_undo_dry_run_and_refuses_to_overwrite(env):
    plan = standard_plan(env)
    report = rm.remediate(plan, env["archive"], apply=True)
    notes = env["share"] / "Reports/notes.txt"
    notes.write_bytes(b"a new file someone created since")
    preview = rm.undo(report.journal, apply=False)
    assert {r.status for r in preview.results} == {"would_do", "refused"}
    assert notes.read_bytes() == b"a new file someone created since"
    result = rm.undo(report.journal)
    by_path = {r.path: r for r in result.results}
    refused = by_path["/Finance/Reports/notes.txt"]
    assert refused.status == "refused" and "not overwriting" in refused.message
    assert notes.read_bytes() == b"a new file someone created since"
    archived = env["archive"] / sha(env["files"]["Reports/notes.txt"]) / "notes.txt"
    assert archived.read_bytes() == env["files"]["Reports/notes.txt"]  # still safe in the archive
    assert result.exit_code == 1
    assert (env["share"] / "Reports/q1.pdf").read_bytes() == env["files"]["Reports/q1.pdf"]


def test_crash_then_undo_without_rerun(env):
    f = env["files"]
    plan = standard_plan(env)

    def hook(step, r):
        if step == "after_move" and r.row == plan[1].row:
            raise Crash(step)

    with pytest.raises(Crash):
        rm.remediate(plan, env["archive"], apply=True, hook=hook)
    journal = env["archive"].resolve() / rm.JOURNAL_NAME
    report = rm.undo(journal)
    assert report.ok, report.to_dict()
    for rel, data in f.items():
        assert (env["share"] / rel).read_bytes() == data
    assert not list(env["share"].rglob("*.archived.txt"))


def test_undo_recreates_removed_folder_inside_root(env):
    import shutil

    plan = standard_plan(env)
    report = rm.remediate(plan, env["archive"], apply=True)
    shutil.rmtree(env["share"] / "Archive")  # someone tidied the emptied folder (stub included)
    restored = rm.undo(report.journal)
    assert restored.ok, restored.to_dict()
    assert (env["share"] / "Archive/Copies/payroll (1).xlsx").read_bytes() == env["files"]["Archive/Copies/payroll (1).xlsx"]
