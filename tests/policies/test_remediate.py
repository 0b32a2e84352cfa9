"""The remediation engine: dry run, apply, undo, refusals, collisions, crash + rerun. No Spark."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson
import pytest

from policies import remediate as rm
from policies.export import export_rows

PLAN_COLUMNS = ["source_system", "file_id", "path", "owner", "size", "policy", "action", "severity", "reason",
                "suppressed_by", "detected_on", "content_sha256", "datasource_name"]


class Crash(BaseException):
    """Simulates the process dying: not an Exception, so the engine does not catch it."""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = Path(dirpath, d)
            out[str(p.relative_to(root)) + "/"] = ("dir",)
        for f in filenames:
            p = Path(dirpath, f)
            st = os.lstat(p)
            out[str(p.relative_to(root))] = (p.read_bytes() if not p.is_symlink() else os.readlink(p), st.st_mtime_ns)
    return out


@pytest.fixture
def env(tmp_path: Path):
    share = tmp_path / "share"  # the mounted datasource, DXR path "/Finance/..." maps here
    (share / "Archive" / "Copies").mkdir(parents=True)
    (share / "Reports").mkdir()
    files = {
        "Archive/Copies/payroll (1).xlsx": b"payroll workbook bytes",
        "Reports/q1.pdf": b"%PDF q1 report",
        "Reports/notes.txt": b"some notes\n",
    }
    for rel, data in files.items():
        (share / rel).write_bytes(data)
    os.utime(share / "Reports/q1.pdf", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    archive = tmp_path / "archive"
    return {"tmp": tmp_path, "share": share, "archive": archive, "files": files,
            "path_map": {"/Finance": str(share)}}


def row(path: str, content: bytes | None, **kw) -> dict:
    base = {
        "source_system": "dxr", "file_id": kw.pop("file_id", "id-" + path), "path": path, "owner": "dana@example.com",
        "size": len(content) if content is not None else None, "policy": "duplicate", "action": "archive",
        "severity": "low", "reason": "one of 2 copies", "suppressed_by": None, "detected_on": "2026-03-01",
        "content_sha256": sha(content) if content is not None else None, "datasource_name": "Finance NAS",
    }
    base.update(kw)
    return base


def write_plan(env, rows, name="plan.csv") -> Path:
    out = env["tmp"] / name
    export_rows(rows, "csv", out, columns=PLAN_COLUMNS)
    return out


def standard_plan(env) -> list[rm.PlanRow]:
    f = env["files"]
    rows = [row("/Finance/" + rel, data) for rel, data in f.items()]
    return rm.plan_from_csv(write_plan(env, rows), env["path_map"])


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


def test_invalid_hash_in_plan_refused(env):
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/notes.txt", b"x", content_sha256="../../etc")]),
                            env["path_map"])
    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.results[0].status == "refused"
    assert "64 hexadecimal" in report.results[0].message


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


def test_plan_reads_neutralised_cells_and_scoped_map(env, tmp_path):
    odd = env["share"] / "Reports" / "-draft=1.txt"
    odd.write_bytes(b"odd name")
    hr = tmp_path / "hr"
    (hr / "Reports").mkdir(parents=True)
    (hr / "Reports" / "q1.pdf").write_bytes(b"hr copy")
    rows = [row("Reports/-draft=1.txt", b"odd name", datasource_name="Finance NAS"),
            row("Reports/q1.pdf", b"hr copy", datasource_name="HR Share")]
    plan_csv = write_plan(env, rows)
    assert "'-draft" not in plan_csv.read_text()  # only whole cells starting with a trigger are prefixed
    plan = rm.plan_from_csv(plan_csv, ["Finance NAS::/=" + str(env["share"]), "HR Share::Reports=" + str(hr / "Reports")])
    assert plan[0].local_path == str(odd.resolve())
    assert plan[1].local_path == str((hr / "Reports" / "q1.pdf").resolve())
    neutralised = rm.plan_from_csv(write_plan(env, [row("-x/y.txt", b"z")], "n.csv"), {"": str(env["share"])})
    assert neutralised[0].path == "-x/y.txt"


def test_plan_errors(env, tmp_path):
    with pytest.raises(rm.PlanError):
        rm.plan_from_csv(tmp_path / "nope.csv", env["path_map"])
    bad = tmp_path / "bad.csv"
    bad.write_text("file,hash\nx,y\n")
    with pytest.raises(rm.PlanError, match="no 'path' column"):
        rm.plan_from_csv(bad, env["path_map"])
    with pytest.raises(rm.PlanError):
        rm.parse_path_map(["no-equals-sign"])
    with pytest.raises(rm.PlanError):
        rm.parse_path_map([])


def test_journal_lock(env):
    env["archive"].mkdir()
    j = rm.Journal(env["archive"] / rm.JOURNAL_NAME, "x")
    try:
        with pytest.raises(rm.PlanError, match="in use"):
            rm.remediate(standard_plan(env), env["archive"], apply=True)
    finally:
        j.close()


def test_main_cli(env, capsys):
    f = env["files"]
    rows = [row("/Finance/" + rel, data) for rel, data in f.items()]
    plan = write_plan(env, rows)
    base = ["--plan", str(plan), "--archive-root", str(env["archive"]), "--path-map", f"/Finance={env['share']}"]
    before = snapshot(env["share"])
    assert rm.main(base) == 0
    out = capsys.readouterr().out
    assert "would_do" in out and "Dry run" in out
    assert snapshot(env["share"]) == before
    assert rm.main(["--plan", str(plan)]) == 2
    assert rm.main(base + ["--apply", "--json"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["counts"] == {"done": 3}
    journal = data["journal"]
    assert rm.main(["--undo", journal]) == 0  # dry run
    assert not (env["share"] / "Reports/q1.pdf").exists()
    assert rm.main(["--undo", journal, "--apply"]) == 0
    assert snapshot(env["share"]) == before
    (env["share"] / "Reports/q1.pdf").write_bytes(b"changed")
    capsys.readouterr()
    assert rm.main(base + ["--apply"]) == 1
    assert "hash mismatch" in capsys.readouterr().out


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


def test_undo_recreates_removed_folder_inside_root(env):
    import shutil

    plan = standard_plan(env)
    report = rm.remediate(plan, env["archive"], apply=True)
    shutil.rmtree(env["share"] / "Archive")  # someone tidied the emptied folder (stub included)
    restored = rm.undo(report.journal)
    assert restored.ok, restored.to_dict()
    assert (env["share"] / "Archive/Copies/payroll (1).xlsx").read_bytes() == env["files"]["Archive/Copies/payroll (1).xlsx"]
