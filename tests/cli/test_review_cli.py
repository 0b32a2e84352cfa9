"""Disposition review from the command line: `remediate --plan SHEET` with the hold check,
`--operator`, the proof log; `export disposition_log`; `export --for-review` flags. No Spark: the
pipeline state is a fake `reading_session`."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from file_records.commands import export as export_cmd
from file_records.commands import remediate as remediate_cmd
from file_records.errors import UsageError
from file_records.remediation import PROOF_FIELDS, read_proof
from tests.cli.test_export_remediate_cli import call, parse
from tests.remediation.helpers import make_env, snapshot
from tests.remediation.test_review import fake_reading_session, sheet_env, write_sheet

FLAGS = [{"file_id": "id-Legal/contract.docx", "path": "/Finance/Legal/contract.docx", "policy": "legal_hold",
          "action": "hold"}]


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> dict:
    monkeypatch.chdir(tmp_path)  # no ./.file-records, no .env
    monkeypatch.delenv("FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR", raising=False)
    monkeypatch.delenv("FILE_RECORDS_POLICIES_CATALOGUE", raising=False)
    e = make_env(tmp_path)
    sheet_env(e)
    e["sheet"] = write_sheet(e, sheet_env_decisions(e))
    e["base"] = ["--plan", str(e["sheet"]), "--archive-root", str(e["archive"]), "--path-map",
                 f"/Finance={e['share']}"]
    return e


def sheet_env_decisions(e):
    f = e["files"]
    return {
        "Reports/q1.pdf": (f["Reports/q1.pdf"], "approve", "rita@example.com", "superseded"),
        "Reports/notes.txt": (f["Reports/notes.txt"], "reject", "rita@example.com", "still used"),
        "Archive/Copies/payroll (1).xlsx": (f["Archive/Copies/payroll (1).xlsx"], "defer", "sam", ""),
        "Legal/contract.docx": (f["Legal/contract.docx"], "approve", "sam", "looks old"),
        "Reports/draft.docx": (f["Reports/draft.docx"], "", "", ""),
    }


def test_apply_without_state_is_refused_unless_no_hold_check(env, capsys):
    before = snapshot(env["tmp"])
    with pytest.raises(UsageError, match="could not check legal holds.*--no-hold-check"):
        call(remediate_cmd, env["base"] + ["--apply"])
    assert snapshot(env["tmp"]) == before
    # a dry run only warns
    assert call(remediate_cmd, env["base"]) == 0
    captured = capsys.readouterr()
    assert "could not check legal holds" in captured.err
    assert "not approved 1 row(s): rejected by rita@example.com: e.g. /Finance/Reports/notes.txt" in captured.out
    assert "not approved 1 row(s): deferred by sam" in captured.out
    assert "not_approved 3" in captured.out and "would_do 2" in captured.out
    assert snapshot(env["tmp"]) == before
    # --no-hold-check: the held file is not known to be held, so it moves (the user asked for it)
    assert call(remediate_cmd, env["base"] + ["--apply", "--no-hold-check", "--json"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["counts"] == {"done": 2, "not_approved": 3} and data["hold_check"] == "skipped"
    assert {r["hold_check"] for r in read_proof(env["archive"] / "disposition-log")} == {"skipped"}


def test_review_sheet_end_to_end_with_hold_check(env, monkeypatch, capsys):
    state = env["tmp"] / "state"
    _, seen = fake_reading_session(monkeypatch, {"gold_policy_flags": FLAGS})
    argv = env["base"] + ["--state-dir", str(state), "--operator", "Olga"]
    assert call(remediate_cmd, argv) == 0  # dry run
    out = capsys.readouterr()
    assert "Legal holds checked: 2 file(s) on hold" in out.err and seen == [state]
    assert "refused as planned 1 row(s)" in out.out and "/Finance/Legal/contract.docx" in out.out

    assert call(remediate_cmd, argv + ["--apply"]) == 0
    out = capsys.readouterr().out
    assert "row 1 done /Finance/Reports/q1.pdf" in out
    assert "Proof of disposition: 1 record(s) appended to" in out
    share = env["share"]
    assert not (share / "Reports/q1.pdf").exists()
    for rel in ("Reports/notes.txt", "Archive/Copies/payroll (1).xlsx", "Legal/contract.docx", "Reports/draft.docx"):
        assert (share / rel).exists(), rel
    log_dir = env["archive"] / "disposition-log"
    (rec,) = read_proof(log_dir)
    assert (rec["action"], rec["outcome"], rec["operator"], rec["reviewer"], rec["hold_check"]) == (
        "archive", "done", "Olga", "rita@example.com", "checked")
    journal = str(env["archive"] / "remediation-journal.jsonl")

    # undo (no --archive-root): the proof goes next to the journal, i.e. the same folder
    assert call(remediate_cmd, ["--undo", journal, "--apply", "--operator", "Una"]) == 0
    capsys.readouterr()
    assert (share / "Reports/q1.pdf").exists()
    archived, undone = read_proof(log_dir)
    assert archived == rec and (undone["action"], undone["outcome"], undone["operator"]) == ("undo", "done", "Una")

    # export for auditors, without Spark
    out_csv = env["tmp"] / "proof.csv"
    assert call(export_cmd, ["disposition-log", "--log-dir", str(log_dir), "--out", str(out_csv)]) == 0
    with open(out_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == PROOF_FIELDS and [r["action"] for r in rows] == ["archive", "undo"]
    out_json = env["tmp"] / "proof.json"
    assert call(export_cmd, ["disposition_log", "--log-dir", str(log_dir), "--format", "json",
                             "--out", str(out_json)]) == 0
    assert [r["record_id"] for r in orjson.loads(out_json.read_bytes())] == [archived["record_id"],
                                                                          undone["record_id"]]


def test_bad_decision_exits_before_anything(env):
    decisions = sheet_env_decisions(env)
    decisions["Reports/draft.docx"] = (decisions["Reports/draft.docx"][0], "maybe", "", "")
    write_sheet(env, decisions)
    before = snapshot(env["tmp"])
    with pytest.raises(UsageError, match="row 5 .*decision 'maybe'"):
        call(remediate_cmd, env["base"] + ["--apply", "--no-hold-check"])
    assert snapshot(env["tmp"]) == before


def test_disposition_log_dir_setting_and_flag(env, monkeypatch, capsys):
    custom = env["tmp"] / "custom-log"
    monkeypatch.setenv("FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR", str(custom))
    assert call(remediate_cmd, env["base"] + ["--apply", "--no-hold-check", "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["disposition_log"] == str(custom)
    assert len(list(read_proof(custom))) == 2 and not (env["archive"] / "disposition-log").exists()
    # export reads the same setting
    out = env["tmp"] / "p.csv"
    assert call(export_cmd, ["disposition_log", "--out", str(out)]) == 0
    assert "2 row(s) written" in capsys.readouterr().err


def test_export_disposition_log_is_formula_safe(tmp_path):
    from file_records.remediation import ProofContext, ProofLog
    from file_records.remediation.proof import make_record

    ProofLog(tmp_path).append(make_record(ProofContext(), action="archive", outcome="done",
                                          path="=HYPERLINK(\"http://evil\")", reviewer="@me"))
    out = tmp_path / "p.csv"
    call(export_cmd, ["disposition_log", "--log-dir", str(tmp_path), "--out", str(out)])
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'@me" in text


def test_export_disposition_log_usage_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR", raising=False)
    with pytest.raises(UsageError, match="give --log-dir"):
        call(export_cmd, ["disposition_log", "--out", str(tmp_path / "o.csv")])
    with pytest.raises(UsageError, match="not a folder"):
        call(export_cmd, ["disposition_log", "--log-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    with pytest.raises(UsageError, match="--policy do"):
        call(export_cmd, ["disposition_log", "--log-dir", str(tmp_path), "--policy", "x", "--out", "-"])
    with pytest.raises(UsageError, match="review sheet of gold_policy_flags"):
        call(export_cmd, ["gold_user_inventory", "--for-review", "--out", str(tmp_path / "o")])
    with pytest.raises(UsageError, match="--log-dir is for"):
        call(export_cmd, ["gold_policy_flags", "--log-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    assert parse(export_cmd, ["gold_policy_flags", "--for-review", "--out", "x"]).for_review
