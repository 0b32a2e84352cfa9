"""`make demo`: both demo days in one command and one local Spark, then the report."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import _cli, _query


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("demo-days") / "state"
    result = _cli(["run", "--demo", "--demo-days", "2", "--state-dir", str(state_dir)], state_dir.parent)
    return state_dir, result.stderr  # the console's lines; stdout has the tables


def test_the_second_day_runs_in_the_first_days_spark(demo):
    state_dir, out = demo
    assert out.index("Demo day 1 of 2") < out.index("Demo day 2 of 2") < out.index("Report:")
    assert out.count("Run is COMPLETED") == 2
    day1, day2 = sorted((state_dir / "logs").glob("run-*.log"))
    assert "local Spark started in" in day1.read_text()
    second = day2.read_text()
    assert "local Spark kept from this process's previous run" in second
    assert "local Spark started in" not in second
    assert "local Spark stopped in" in second  # stopped once, after the last day, before the report
    assert (state_dir / "report.html").stat().st_size > 0


def test_the_second_day_is_a_new_snapshot_with_the_days_changes(demo):
    state_dir, _ = demo
    rows = _query(state_dir, "SELECT snapshot_id, files_removed, files_changed, files_added FROM gold_file_changes "
                             "WHERE source_system = 'dxr' ORDER BY snapshot_id")
    assert len(rows) == 2
    assert (rows[1]["files_removed"], rows[1]["files_changed"], rows[1]["files_added"]) == (7, 9, 5)
    workspace = _query(state_dir, "SELECT count(DISTINCT scan_id) AS scans FROM bronze_workspace_objects")
    assert workspace == [{"scans": 2}]


def test_demo_days_refuses_what_it_cannot_combine(tmp_path):
    result = _cli(["run", "--demo", "--demo-days", "2", "--demo-day", "2", "--state-dir", str(tmp_path / "s")],
                  tmp_path, check=False)
    assert result.returncode == 2 and "--demo-days runs the demo's days from the first" in result.stderr
    result = _cli(["run", "--demo-days", "2", "--state-dir", str(tmp_path / "s")], tmp_path, check=False)
    assert result.returncode == 2 and "--demo-days goes with --demo" in result.stderr
