"""The remediation report: refusals grouped by reason, unmapped path prefixes with a --path-map
hint, and refusals the plan asked for (hold/keep) not failing the run."""

from __future__ import annotations

import argparse

import orjson
from rich.console import Console

from file_records import remediation as rm
from file_records.commands import remediate as remediate_cmd
from file_records.remediation.errors import NO_PATH_MAP, ON_HOLD
from tests.remediation.helpers import row, write_plan


def call(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    remediate_cmd.add_arguments(parser)
    return remediate_cmd.run(parser.parse_args(argv), Console(stderr=True))


def unmapped_rows(n: int) -> list[dict]:
    return [row(f"/HR/Payroll/2019/file-{i:03d}.xlsx", f"data {i}".encode()) for i in range(n)] + [
        row("/Legal/contract.pdf", b"contract")]


def test_expected_refusals_do_not_fail_the_run(env):
    f = env["files"]
    rows = [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"], suppressed_by="legal_hold"),
            row("/Finance/Reports/notes.txt", f["Reports/notes.txt"], policy="keep_forever", action="keep"),
            row("/Elsewhere/held.txt", b"held", action="hold"),  # unmapped, but held: expected
            row("/Finance/Archive/Copies/payroll (1).xlsx", f["Archive/Copies/payroll (1).xlsx"])]
    plan = rm.plan_from_csv(write_plan(env, rows), env["path_map"])
    for apply in (False, True):
        report = rm.remediate(plan, env["archive"], apply=apply)
        statuses = [r.status for r in report.results]
        assert statuses == ["refused", "refused", "refused", "done" if apply else "would_do"]
        assert all(r.expected and r.reason == ON_HOLD for r in report.results[:3])
        assert report.expected_refusals == 3 and report.exit_code == 0 and report.ok
    assert rm.unmapped_prefixes(plan) == []  # the held unmapped row needs no mapping


def test_unexpected_refusal_still_fails(env):
    rows = [row("/Finance/Reports/q1.pdf", b"not what is on disk")]
    report = rm.remediate(rm.plan_from_csv(write_plan(env, rows), env["path_map"]), env["archive"])
    assert report.results[0].status == "refused" and not report.results[0].expected
    assert report.exit_code == 1


def test_unmapped_prefixes(env):
    rows = unmapped_rows(5) + [row("/Finance/Reports/q1.pdf", env["files"]["Reports/q1.pdf"])]
    plan = rm.plan_from_csv(write_plan(env, rows), env["path_map"])
    assert [p.error_reason for p in plan] == [NO_PATH_MAP] * 6 + [None]
    assert rm.unmapped_prefixes(plan) == [("/HR/Payroll", "Finance NAS", 5), ("/Legal", "Finance NAS", 1)]


def test_report_groups_refusals_and_hints_path_maps(env, capsys):
    f = env["files"]
    rows = unmapped_rows(64) + [
        row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"], suppressed_by="legal_hold"),
        row("/Finance/Reports/notes.txt", f["Reports/notes.txt"]),
    ]
    plan = write_plan(env, rows)
    base = ["--plan", str(plan), "--archive-root", str(env["archive"]), "--path-map", f"/Finance={env['share']}"]
    assert call(base) == 1  # 65 unmapped rows are real refusals
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) < 12, out
    refused = [line for line in lines if line.startswith("refused ") and "as planned" not in line]
    assert len(refused) == 1
    assert "refused 65 row(s): under no --path-map prefix" in refused[0]
    assert "/HR/Payroll/2019/file-000.xlsx" in refused[0] and "62 more" in refused[0]
    assert "/HR/Payroll/2019/file-003.xlsx" not in refused[0]
    held = [line for line in lines if line.startswith("refused as planned ")]
    assert len(held) == 1 and "1 row(s)" in held[0] and "/Finance/Reports/q1.pdf" in held[0]
    assert 'add --path-map "/HR/Payroll=LOCAL"' in out and 'add --path-map "/Legal=LOCAL"' in out
    assert "64 row(s)" in out  # the /HR/Payroll prefix
    assert "row 67 would_do" in out
    assert "refused 66, would_do 1 (1 refused as planned: on hold or kept)" in out

    assert call(base + ["--json"]) == 1
    data = orjson.loads(capsys.readouterr().out)
    assert data["expected_refusals"] == 1
    assert data["unmapped_prefixes"][0] == {"prefix": "/HR/Payroll", "datasource_name": "Finance NAS", "rows": 64}


def test_only_held_refusals_exit_0(env, capsys):
    f = env["files"]
    rows = [row("/Finance/Reports/q1.pdf", f["Reports/q1.pdf"], suppressed_by="legal_hold"),
            row("/Finance/Reports/notes.txt", f["Reports/notes.txt"])]
    plan = write_plan(env, rows)
    assert call(["--plan", str(plan), "--archive-root", str(env["archive"]),
                 "--path-map", f"/Finance={env['share']}", "--apply", "--no-hold-check"]) == 0
    out = capsys.readouterr().out
    assert "refused as planned 1 row(s)" in out and "row 2 done" in out
    assert (env["share"] / "Reports/q1.pdf").exists() and not (env["share"] / "Reports/notes.txt").exists()
