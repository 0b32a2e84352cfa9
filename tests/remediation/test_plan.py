"""Reading a plan: neutralised cells, scoped path maps, bad plans and bad hashes. No Spark."""

from __future__ import annotations

import pytest

from file_records import remediation as rm
from tests.remediation.helpers import row, write_plan


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


def test_invalid_hash_in_plan_refused(env):
    plan = rm.plan_from_csv(write_plan(env, [row("/Finance/Reports/notes.txt", b"x", content_sha256="../../etc")]),
                            env["path_map"])
    report = rm.remediate(plan, env["archive"], apply=True)
    assert report.results[0].status == "refused"
    assert "64 hexadecimal" in report.results[0].message
