"""The proof-of-disposition log: one record per file archived or restored, append-only, in the
format of remediation/proof.py (the contract with gold_disposition_status)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys

import orjson
import pytest

from file_records import remediation as rm
from file_records.policies.model import DEFAULT_CATALOGUE
from file_records.remediation import proof as pf
from tests.remediation.helpers import Crash, row, sha, write_plan
from tests.remediation.test_review import HELD, SHEET_COLUMNS, sheet_env, write_sheet


def records(log_dir) -> list[dict]:
    return list(rm.read_proof(log_dir))


def context(**kw) -> rm.ProofContext:
    return rm.ProofContext.current(operator="Olga Operator", hold_check=pf.HOLD_CHECKED, **kw)


def test_fields_schema_and_ddl_agree():
    assert pf.PROOF_FIELDS[:3] == ["proof_version", "record_id", "logged_at"]
    assert len(set(pf.PROOF_FIELDS)) == len(pf.PROOF_FIELDS)
    for name in pf.PROOF_FIELDS:  # the docstring documents every field
        assert re.search(rf"^    {name} +{pf.PROOF_TYPES[name]} ", pf.__doc__, re.M), name
    pytest.importorskip("pyspark")
    schema = pf.proof_schema()
    assert schema.fieldNames() == pf.PROOF_FIELDS
    assert pf.PROOF_SCHEMA == schema
    assert {f.name: f.dataType.simpleString() for f in schema.fields} == pf.PROOF_TYPES
    ddl = [part.split(" ") for part in pf.PROOF_DDL.split(", ")]
    assert [(n, t.lower()) for n, t in ddl] == list(pf.PROOF_TYPES.items())


def test_import_needs_no_spark():
    code = "import sys, file_records.remediation.proof as p; assert p.PROOF_FIELDS; assert 'pyspark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_apply_and_undo_write_one_record_per_action(env):
    decisions = sheet_env(env)
    sheet = write_sheet(env, decisions)
    log_dir = env["archive"] / pf.LOG_DIR_NAME
    log = rm.ProofLog(log_dir)
    ctx = context(plan=sheet)
    report = rm.remediate(rm.plan_from_csv(sheet, env["path_map"]), env["archive"], apply=True, holds=HELD,
                          proof=log, proof_context=ctx)
    assert report.counts == {rm.DONE: 1, rm.NOT_APPROVED: 3, rm.REFUSED: 1}
    (rec,) = records(log_dir)
    q1 = env["files"]["Reports/q1.pdf"]
    assert list(rec) == pf.PROOF_FIELDS
    assert rec["proof_version"] == 1 and re.fullmatch(r"[0-9a-f]{32}", rec["record_id"])
    assert (rec["action"], rec["outcome"], rec["reason"]) == ("archive", "done", None)
    assert (rec["reviewer"], rec["decision"], rec["review_comment"]) == ("rita@example.com", "approve", "superseded")
    assert rec["operator"] == "Olga Operator" and rec["os_user"] and rec["host"]
    assert rec["hold_check"] == "checked"
    assert rec["catalogue_path"] == str(DEFAULT_CATALOGUE.resolve())
    assert rec["catalogue_sha256"] == hashlib.sha256(DEFAULT_CATALOGUE.read_bytes()).hexdigest()
    assert (rec["policy"], rec["source_system"], rec["datasource_name"]) == ("duplicate", "dxr", "Finance NAS")
    assert (rec["file_id"], rec["path"]) == ("id-Reports/q1.pdf", "/Finance/Reports/q1.pdf")
    assert rec["local_path"] == str(env["share"].resolve() / "Reports/q1.pdf")
    assert (rec["content_sha256"], rec["size"]) == (sha(q1), len(q1))
    assert rec["archive_location"] == report.results[0].archived_to and os.path.isfile(rec["archive_location"])
    assert rec["stub_path"].endswith("q1.pdf.archived.txt")
    assert rec["journal"] == report.journal and rec["plan"] == str(sheet.resolve()) and rec["plan_row"] == 1
    logged = dt.datetime.fromisoformat(rec["logged_at"].replace("Z", "+00:00"))
    assert rec["logged_at"].endswith("Z") and abs(dt.datetime.now(dt.timezone.utc) - logged).total_seconds() < 60
    (day_file,) = pf.log_files(log_dir)
    assert day_file.name == f"disposition-{logged:%Y%m%d}.jsonl" and report.results[0].proof == str(day_file)

    # a rerun archives nothing and proves nothing twice
    again = rm.remediate(rm.plan_from_csv(sheet, env["path_map"]), env["archive"], apply=True, holds=HELD,
                         proof=log, proof_context=ctx)
    assert again.counts[rm.ALREADY_DONE] == 1 and len(records(log_dir)) == 1

    first_line = day_file.read_bytes()
    undone = rm.undo(report.journal, proof=log, proof_context=rm.ProofContext.current(operator="Una"))
    assert undone.counts == {rm.DONE: 1}
    assert (env["share"] / "Reports/q1.pdf").read_bytes() == q1
    archived, restored = records(log_dir)
    assert archived == rec
    assert day_file.read_bytes().startswith(first_line)  # appended, never rewritten
    assert (restored["action"], restored["outcome"], restored["operator"]) == ("undo", "done", "Una")
    assert (restored["reviewer"], restored["decision"], restored["hold_check"], restored["plan"]) == (None,) * 4
    for name in ("file_id", "path", "local_path", "content_sha256", "size", "archive_location", "stub_path",
                 "policy", "source_system", "datasource_name", "journal"):
        assert restored[name] == rec[name], name
    assert restored["record_id"] != rec["record_id"]


def test_failed_archive_is_recorded_with_its_reason(env):
    f = env["files"]
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"]),
                                             row("/Finance/Reports/gone.pdf", b"was here")]), env["path_map"])
    log_dir = env["tmp"] / "proof"
    report = rm.remediate(plan, env["archive"], apply=True, proof=rm.ProofLog(log_dir), proof_context=context())
    assert report.counts == {rm.DONE: 1, rm.FAILED: 1}
    done, failed = records(log_dir)
    assert (done["outcome"], failed["outcome"]) == ("done", "failed")
    assert "no longer exists" in failed["reason"] and failed["archive_location"] is None
    assert (failed["content_sha256"], failed["size"]) == (sha(b"was here"), len(b"was here"))
    assert failed["decision"] is None and failed["reviewer"] is None  # a plain plan


def test_dry_run_writes_no_proof(env):
    f = env["files"]
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"])]), env["path_map"])
    log_dir = env["tmp"] / "proof"
    rm.remediate(plan, env["archive"], proof=rm.ProofLog(log_dir), proof_context=context())
    assert not log_dir.exists()


def test_record_lost_to_a_crash_is_written_by_the_rerun(env):
    f = env["files"]
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"])]), env["path_map"])
    log_dir = env["tmp"] / "proof"

    # archived without a proof log (as if the process died after "done", before its record)
    assert rm.remediate(plan, env["archive"], apply=True).counts == {rm.DONE: 1}
    report = rm.remediate(plan, env["archive"], apply=True, proof=rm.ProofLog(log_dir), proof_context=context())
    assert report.counts == {rm.ALREADY_DONE: 1}
    (rec,) = records(log_dir)
    assert rec["outcome"] == "done" and rec["archive_location"] == report.results[0].archived_to
    rm.remediate(plan, env["archive"], apply=True, proof=rm.ProofLog(log_dir), proof_context=context())
    assert len(records(log_dir)) == 1


def test_crash_mid_row_then_resume_gives_one_record(env):
    f = env["files"]
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"])]), env["path_map"])
    log_dir = env["tmp"] / "proof"

    def crash(step, _row):
        if step == "after_move":
            raise Crash()

    with pytest.raises(Crash):
        rm.remediate(plan, env["archive"], apply=True, hook=crash, proof=rm.ProofLog(log_dir), proof_context=context())
    assert records(log_dir) == []
    report = rm.remediate(plan, env["archive"], apply=True, proof=rm.ProofLog(log_dir), proof_context=context())
    assert report.counts == {rm.DONE: 1} and len(records(log_dir)) == 1


def test_append_after_a_torn_line_and_readers_skip_it(tmp_path):
    log = rm.ProofLog(tmp_path)
    when = dt.datetime(2026, 3, 1, 23, 59, 59, tzinfo=dt.timezone.utc)
    first = pf.make_record(rm.ProofContext(), logged_at=when, action="archive", outcome="done", path="/a")
    path = log.append(first)
    assert os.path.basename(path) == "disposition-20260301.jsonl"
    with open(path, "ab") as fh:
        fh.write(b'{"record_id": "torn')  # a crash mid-write
    second = pf.make_record(rm.ProofContext(), logged_at=when, action="undo", outcome="failed", reason="x")
    log.append(second)
    (tmp_path / "notes.txt").write_text("not a log file")
    got = records(tmp_path)
    assert [r["record_id"] for r in got] == [first["record_id"], second["record_id"]]
    assert got[0]["logged_at"] == "2026-03-01T23:59:59Z"
    lines = open(path, "rb").read().splitlines()
    assert orjson.loads(lines[0]) == first and len(lines) == 3
    with pytest.raises(ValueError, match="not proof fields"):
        pf.make_record(rm.ProofContext(), colour="red")


def test_unwritable_log_dir_stops_before_anything_moves(env):
    f = env["files"]
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"])]), env["path_map"])
    blocker = env["tmp"] / "a-file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        rm.remediate(plan, env["archive"], apply=True, proof=rm.ProofLog(blocker / "log"), proof_context=context())
    assert (env["share"] / "Reports/q1.pdf").exists()


def test_disposition_log_dir_setting(monkeypatch, tmp_path):
    from file_records.policies.options import PolicyOptions

    opts = PolicyOptions.from_env({"FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR": str(tmp_path)}, {})
    assert opts.disposition_log_dir == tmp_path
    assert PolicyOptions.conf_key("disposition_log_dir") == "file_records.policies.disposition_log_dir"
    assert PolicyOptions().disposition_log_dir is None


def test_sheet_columns_are_what_export_for_review_writes():
    from file_records.policies.export import REVIEW_COLUMNS

    assert SHEET_COLUMNS[:3] == list(REVIEW_COLUMNS) == ["decision", "reviewer", "comment"]
