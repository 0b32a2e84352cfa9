"""Archiving: dry run, apply, refusals, collisions, per-row failures. No Spark."""

from __future__ import annotations

import os
from pathlib import Path

from file_records import remediation as rm
from tests.remediation.helpers import row, sha, snapshot, standard_plan, write_plan


def test_dry_run_touches_nothing(env):
    plan = standard_plan(env)
    before = snapshot(env["tmp"])
    report = rm.remediate(plan, env["archive"])
    assert report.mode == "dry-run"
    assert [r.status for r in report.results] == ["would_do"] * 3
    assert "would move" in report.results[0].message
    assert snapshot(env["tmp"]) == before
    assert not env["archive"].exists()  # not even the archive root or journal
    assert report.exit_code == 0


def test_apply_moves_writes_stub_and_journals(env):
    plan = standard_plan(env)
    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.exit_code == 0, report.to_dict()
    assert [r.status for r in report.results] == ["done"] * 3
    for rel, data in env["files"].items():
        src = env["share"] / rel
        assert not src.exists()
        archived = env["archive"] / sha(data) / src.name
        assert archived.read_bytes() == data
        stub = src.with_name(src.name + ".archived.txt")
        text = stub.read_text()
        assert text.startswith(rm.DEFAULT_STUB_MESSAGE)
        assert str(archived) in text and sha(data) in text
    # mtime preserved on the archived copy
    q1 = env["archive"] / sha(env["files"]["Reports/q1.pdf"]) / "q1.pdf"
    assert os.stat(q1).st_mtime_ns == 1_600_000_000_000_000_000
    journal = rm.read_journal(report.journal)
    events = [r["event"] for r in journal if r.get("key", "").startswith(str(env["share"] / "Reports/q1.pdf"))]
    assert events == ["start", "copy_intent", "copied", "place_intent", "placed", "verified",
                      "remove_source_intent", "source_removed", "stub_intent", "stub_written", "done"]
    assert report.journal == str(env["archive"].resolve() / rm.JOURNAL_NAME)
    # rerun of the same plan: nothing more happens
    again = rm.remediate(plan, env["archive"], apply=True)
    assert [r.status for r in again.results] == ["already_done"] * 3
    assert not any("(2)" in p.name for p in env["archive"].rglob("*"))


def test_hash_mismatch_refused(env):
    plan = standard_plan(env)
    q1 = env["share"] / "Reports/q1.pdf"
    q1.write_bytes(b"edited after the export")
    report = rm.remediate(plan, env["archive"], apply=True)
    by_path = {r.path: r for r in report.results}
    bad = by_path["/Finance/Reports/q1.pdf"]
    assert bad.status == "refused" and "hash mismatch" in bad.message
    assert q1.read_bytes() == b"edited after the export"
    assert not q1.with_name("q1.pdf.archived.txt").exists()
    assert by_path["/Finance/Reports/notes.txt"].status == "done"
    assert report.exit_code == 1


def test_missing_hash_refused_unless_allowed(env):
    data = env["files"]["Reports/notes.txt"]
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/notes.txt", None)]), env["path_map"])
    refused = rm.remediate(plan, env["archive"], apply=True)
    assert refused.results[0].status == "refused" and "content_sha256" in refused.results[0].message
    assert (env["share"] / "Reports/notes.txt").exists()
    allowed = rm.remediate(plan, env["archive"], apply=True, allow_unhashed=True)
    assert allowed.results[0].status == "done"
    assert (env["archive"] / sha(data) / "notes.txt").read_bytes() == data


def test_collision_never_overwrites(env):
    data = env["files"]["Reports/q1.pdf"]
    target_dir = env["archive"] / sha(data)
    target_dir.mkdir(parents=True)
    (target_dir / "q1.pdf").write_bytes(b"a different file already here")
    # a second copy with the same name and content elsewhere on the share
    (env["share"] / "Archive" / "q1.pdf").write_bytes(data)
    rows = [row("/Finance/Reports/q1.pdf", data), row("/Finance/Archive/q1.pdf", data)]
    plan = rm.plan_from_csv(write_plan(env, rows), env["path_map"])
    preview = rm.remediate(plan, env["archive"])
    assert "keeping both" in preview.results[0].message
    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.ok, report.to_dict()
    assert (target_dir / "q1.pdf").read_bytes() == b"a different file already here"
    assert (target_dir / "q1 (2).pdf").read_bytes() == data
    assert (target_dir / "q1 (3).pdf").read_bytes() == data  # same content archived twice: both kept
    assert report.results[0].archived_to.endswith("q1 (2).pdf")
    # undo gives each copy back from its own archive file
    assert rm.undo(report.journal).ok
    assert (env["share"] / "Reports/q1.pdf").read_bytes() == data
    assert (env["share"] / "Archive/q1.pdf").read_bytes() == data
    assert (target_dir / "q1.pdf").read_bytes() == b"a different file already here"


def test_stub_name_collision_never_overwrites(env):
    notes = env["share"] / "Reports/notes.txt"
    existing = notes.with_name("notes.txt.archived.txt")
    existing.write_bytes(b"not ours")
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/notes.txt", env["files"]["Reports/notes.txt"])]),
                            env["path_map"])
    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.ok
    assert existing.read_bytes() == b"not ours"
    assert Path(report.results[0].stub).name == "notes.txt.archived (2).txt"


def test_missing_file_reported_others_continue(env):
    f = env["files"]
    rows = [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"]),
            row("/Finance/Reports/gone.docx", b"whatever"),
            row("/Finance/Reports/notes.txt", f["Reports/notes.txt"])]
    plan = rm.plan_from_csv(write_plan(env, rows), env["path_map"])
    report = rm.remediate(plan, env["archive"], apply=True)
    assert [r.status for r in report.results] == ["done", "failed", "done"]
    assert "missing" in report.results[1].message
    assert report.exit_code == 1


def test_paths_outside_roots_refused(env, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_bytes(b"do not touch")
    (env["share"] / "Reports" / "link.txt").symlink_to(secret)
    (env["share"] / "escape").symlink_to(outside, target_is_directory=True)
    inside_target = env["share"] / "Reports" / "notes.txt"
    (env["share"] / "Reports" / "inner-link.txt").symlink_to(inside_target)
    s = sha(b"do not touch")
    rows = [
        row("/Finance/../outside/secret.txt", b"do not touch"),
        row("/Finance/Reports/../../outside/secret.txt", b"do not touch"),
        row("/Finance/Reports/link.txt", b"do not touch"),
        row("/Finance/escape/secret.txt", b"do not touch"),
        row("/Finance/Reports/inner-link.txt", env["files"]["Reports/notes.txt"]),
        row("/Elsewhere/secret.txt", b"do not touch"),
        row("/Finance", b"do not touch"),
    ]
    plan = rm.plan_from_csv(write_plan(env, rows), env["path_map"])
    before = snapshot(tmp_path)
    report = rm.remediate(plan, env["archive"], apply=True)
    assert [r.status for r in report.results] == ["refused"] * len(rows), report.to_dict()
    messages = [r.message for r in report.results]
    assert "traversal" in messages[0] and "traversal" in messages[1]
    assert "symbolic link" in messages[2]
    assert "outside the mapped root" in messages[3]
    assert "symbolic link" in messages[4]
    assert "no --path-map prefix" in messages[5]
    assert secret.read_bytes() == b"do not touch"
    after = snapshot(tmp_path)
    after.pop("archive/", None)
    after.pop("archive/" + rm.JOURNAL_NAME, None)
    assert after == before
    assert not (env["archive"] / s).exists()
    assert report.exit_code == 1


def test_suppressed_and_hold_rows_refused(env):
    f = env["files"]
    rows = [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"], suppressed_by="legal_hold"),
            row("/Finance/Reports/notes.txt", f["Reports/notes.txt"], policy="legal_hold", action="hold")]
    plan = rm.plan_from_csv(write_plan(env, rows), env["path_map"])
    report = rm.remediate(plan, env["archive"], apply=True)
    assert [r.status for r in report.results] == ["refused", "refused"]
    assert "legal_hold" in report.results[0].message
    assert (env["share"] / "Reports/q1.pdf").exists() and (env["share"] / "Reports/notes.txt").exists()


def test_duplicate_plan_rows_skipped(env):
    data = env["files"]["Reports/q1.pdf"]
    rows = [row("/Finance/Reports/q1.pdf", data), row("/Finance/Reports/q1.pdf", data, policy="stale")]
    plan = rm.plan_from_csv(write_plan(env, rows), env["path_map"])
    report = rm.remediate(plan, env["archive"], apply=True)
    assert [r.status for r in report.results] == ["done", "skipped"]
    assert report.exit_code == 0


def test_long_names_fit(env):
    name = "x" * 250 + ".txt"
    (env["share"] / "Reports" / name).write_bytes(b"long")
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/" + name, b"long")]), env["path_map"])
    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.ok, report.to_dict()
    stub = Path(report.results[0].stub)
    assert stub.name.endswith(".archived.txt") and len(stub.name) <= 255
    assert rm.undo(report.journal).ok
    assert (env["share"] / "Reports" / name).read_bytes() == b"long"
