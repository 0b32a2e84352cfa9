"""Disposition review: only approved rows of a review sheet act, and a file on legal hold now is
refused even when approved. No Spark: the newest flags are a fake ``reading_session``."""

from __future__ import annotations

import contextlib
from pathlib import Path

import orjson
import pytest

from file_records import remediation as rm
from file_records.policies.export import export_rows
from file_records.remediation.errors import HELD_NOW
from tests.remediation.helpers import PLAN_COLUMNS, row, snapshot

SHEET_COLUMNS = [*rm.REVIEW_COLUMNS, *PLAN_COLUMNS]


def sheet_env(env) -> dict[str, tuple[bytes, str, str, str]]:
    """Five files: rel -> (content, decision, reviewer, comment)."""
    (env["share"] / "Legal").mkdir()
    extra = {"Legal/contract.docx": b"signed contract", "Reports/draft.docx": b"draft"}
    for rel, data in extra.items():
        (env["share"] / rel).write_bytes(data)
    env["files"].update(extra)
    f = env["files"]
    return {
        "Reports/q1.pdf": (f["Reports/q1.pdf"], "approve", "rita@example.com", "superseded"),
        "Reports/notes.txt": (f["Reports/notes.txt"], "reject", "rita@example.com", "still used"),
        "Archive/Copies/payroll (1).xlsx": (f["Archive/Copies/payroll (1).xlsx"], "Defer", "sam", ""),
        "Legal/contract.docx": (f["Legal/contract.docx"], "approve", "sam", "looks old"),  # held now
        "Reports/draft.docx": (f["Reports/draft.docx"], "", "", ""),
    }


def write_sheet(env, decisions, name="review.csv", fmt="csv") -> Path:
    rows = []
    for rel, (data, decision, reviewer, comment) in decisions.items():
        r = row("/Finance/" + rel, data, file_id="id-" + rel)
        r.update(decision=decision, reviewer=reviewer, comment=comment)
        rows.append(r)
    out = env["tmp"] / name
    export_rows(rows, fmt, out, columns=SHEET_COLUMNS)
    return out


HELD = rm.holds_from_rows([{"file_id": "id-Legal/contract.docx", "path": "/Finance/Legal/contract.docx",
                            "policy": "legal_hold", "action": "hold"}], source="test flags")


def by_path(report) -> dict[str, rm.RowResult]:
    return {r.path.removeprefix("/Finance/"): r for r in report.results}


def test_only_approved_unheld_files_move(env):
    decisions = sheet_env(env)
    plan = rm.plan_from_csv(write_sheet(env, decisions), env["path_map"])
    assert [p.decision for p in plan] == ["approve", "reject", "defer", "approve", None]
    assert plan[0].reviewer == "rita@example.com" and plan[0].comment == "superseded"
    assert [p.approved for p in plan] == [True, False, False, True, False]

    report = rm.remediate(plan, env["archive"], apply=True, holds=HELD)
    res = by_path(report)
    assert res["Reports/q1.pdf"].status == rm.DONE
    assert res["Reports/notes.txt"].status == rm.NOT_APPROVED and "rejected by rita" in res["Reports/notes.txt"].message
    assert res["Archive/Copies/payroll (1).xlsx"].status == rm.NOT_APPROVED
    assert "deferred" in res["Archive/Copies/payroll (1).xlsx"].message
    assert res["Reports/draft.docx"].status == rm.NOT_APPROVED and "no decision" in res["Reports/draft.docx"].message
    held = res["Legal/contract.docx"]
    assert (held.status, held.reason, held.expected) == (rm.REFUSED, HELD_NOW, True)
    assert "legal_hold" in held.message and "test flags" in held.message
    assert report.exit_code == 0  # not approved and held are not failures
    share = env["share"]
    assert not (share / "Reports/q1.pdf").exists()
    for rel in ("Reports/notes.txt", "Archive/Copies/payroll (1).xlsx", "Legal/contract.docx", "Reports/draft.docx"):
        assert (share / rel).read_bytes() == env["files"][rel], rel


def test_dry_run_reports_holds_and_decisions_and_touches_nothing(env):
    decisions = sheet_env(env)
    plan = rm.plan_from_csv(write_sheet(env, decisions), env["path_map"])
    before = snapshot(env["tmp"])
    report = rm.remediate(plan, env["archive"], holds=HELD)
    assert report.counts == {rm.WOULD: 1, rm.NOT_APPROVED: 3, rm.REFUSED: 1}
    assert snapshot(env["tmp"]) == before


def test_plain_plan_acts_on_every_row(env):
    f = env["files"]
    out = env["tmp"] / "plain.csv"
    export_rows([row("/Finance/" + rel, data) for rel, data in f.items()], "csv", out, columns=PLAN_COLUMNS)
    plan = rm.plan_from_csv(out, env["path_map"])
    assert all(p.approved and not p.reviewed for p in plan)
    assert rm.remediate(plan, env["archive"], apply=True).counts == {rm.DONE: 3}


def test_approved_but_suppressed_is_refused_as_expected(env):
    decisions = sheet_env(env)
    rows = []
    for rel, (data, _, _, _) in decisions.items():
        r = row("/Finance/" + rel, data, suppressed_by="legal_hold" if rel == "Reports/q1.pdf" else None)
        r.update(decision="approve", reviewer="x", comment="")
        rows.append(r)
    out = env["tmp"] / "s.csv"
    export_rows(rows, "csv", out, columns=SHEET_COLUMNS)
    report = rm.remediate(rm.plan_from_csv(out, env["path_map"]), env["archive"], apply=True)
    q1 = by_path(report)["Reports/q1.pdf"]
    assert (q1.status, q1.expected) == (rm.REFUSED, True) and report.exit_code == 0
    assert (env["share"] / "Reports/q1.pdf").exists()


@pytest.mark.parametrize("bad", ["yes", "approved", "ok?", "=approve()"])
def test_bad_decision_is_an_error_naming_the_row(env, bad):
    decisions = sheet_env(env)
    rel = "Reports/notes.txt"
    decisions[rel] = (*decisions[rel][:1], bad, "rita", "")
    sheet = write_sheet(env, decisions)
    before = snapshot(env["tmp"])
    with pytest.raises(rm.PlanError, match=r"row 2 \(/Finance/Reports/notes.txt\): decision .* is not one of"):
        rm.plan_from_csv(sheet, env["path_map"])
    assert snapshot(env["tmp"]) == before


def test_json_sheet(env):
    decisions = sheet_env(env)
    sheet = write_sheet(env, decisions, name="review.json", fmt="json")
    data = orjson.loads(sheet.read_bytes())
    assert data[0]["decision"] == "approve" and data[0]["size"] == len(env["files"]["Reports/q1.pdf"])
    plan = rm.plan_from_csv(sheet, env["path_map"])
    assert [p.decision for p in plan] == ["approve", "reject", "defer", "approve", None]
    assert plan[0].size == len(env["files"]["Reports/q1.pdf"]) and plan[0].error is None


def test_holds_match_over_generously():
    holds = rm.holds_from_rows([
        {"file_id": "f1", "path": "/A/held.docx", "policy": "legal_hold", "action": "hold"},
        {"file_id": "f2", "path": "/A/other.docx", "policy": "duplicate", "action": "archive"},
        {"file_id": "f3", "path": "/B/x", "policy": "custom_hold", "action": "HOLD"},
    ], source="s")
    assert len(holds) == 4  # f1, /a/held.docx, f3, b/x
    assert holds.held("/elsewhere", "f1") and holds.held("a/HELD.docx", None)
    assert "custom_hold" in holds.held("/B/x", None)
    assert holds.held("/A/other.docx", "f2") is None


class FakeSpark:
    def __init__(self, tables: dict[str, list[dict]]):
        self.tables = tables
        self.queries: list[str] = []

    def sql(self, query: str):
        self.queries.append(query)
        if query.startswith("SHOW TABLES"):
            rows = [{"tableName": name} for name in self.tables]
        else:
            rows = [r for r in self.tables["gold_policy_flags"]
                    if r["policy"] == "legal_hold" or r["action"] == "hold"]
        return type("Result", (), {"collect": lambda self: rows})()


def fake_reading_session(monkeypatch, tables):
    from file_records.local import runner

    spark = FakeSpark(tables)
    seen = []

    @contextlib.contextmanager
    def session(state_dir):
        seen.append(Path(state_dir))
        yield spark

    monkeypatch.setattr(runner, "reading_session", session)
    return spark, seen


def test_read_holds_from_the_newest_flags(monkeypatch, tmp_path):
    from file_records.local import runner

    flags = [{"file_id": "f1", "path": "/A/held.docx", "policy": "legal_hold", "action": "hold"},
             {"file_id": "f2", "path": "/A/b.docx", "policy": "duplicate", "action": "archive"}]
    spark, seen = fake_reading_session(monkeypatch, {"gold_policy_flags": flags})
    holds = rm.read_holds(tmp_path, runner.reading_session)
    assert seen == [tmp_path] and holds.file_ids == {"f1"} and holds.paths == {"a/held.docx"}
    assert "gold_policy_flags" in holds.source and "legal_hold" in spark.queries[-1]
    fake_reading_session(monkeypatch, {"silver_all_files": []})
    assert rm.read_holds(tmp_path, runner.reading_session) is None  # no flags table: the holds could not be checked
