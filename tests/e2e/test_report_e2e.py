"""`file-records report` over a real two-source pipeline state: the numbers on the page are the
tables' numbers, every rule has its chart, no token leaks, and Chromium renders it."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.e2e.conftest import TOKEN, WORKSPACE_TOKEN, _cli, _query
from tests.report import CHROMIUM, index_page, rendered_dom

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

NUMBERS_SQL = """
SELECT
  (SELECT count(*) FROM silver_file_records) AS silver_files,
  (SELECT coalesce(sum(size), 0) FROM silver_file_records) AS silver_bytes,
  (SELECT count(*) FROM silver_file_records_quarantine) AS quarantined_files,
  (SELECT count(*) FROM gold_duplicate_files) AS duplicate_groups,
  (SELECT coalesce(sum(reclaimable_bytes), 0) FROM gold_duplicate_files) AS reclaimable_bytes,
  (SELECT count(*) FROM silver_workspace_files) AS workspace_files,
  (SELECT count(*) FROM silver_workspace_files_quarantine) AS workspace_quarantined,
  (SELECT count(DISTINCT username) FROM gold_user_inventory
    WHERE scan_id = (SELECT max(scan_id) FROM gold_user_inventory)) AS users,
  (SELECT count(DISTINCT username) FROM gold_user_inventory
    WHERE scan_id = (SELECT max(scan_id) FROM gold_user_inventory) AND status = 'error') AS users_with_errors,
  (SELECT max(snapshot_id) FROM bronze_dxr_files) AS `latest_id:dxr`,
  (SELECT max(scan_id) FROM bronze_workspace_objects) AS `latest_id:workspace`
"""


@pytest.fixture(scope="module")
def report(two_runs, tmp_path_factory):
    state_dir = two_runs[0]
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = _cli(["report", "--state-dir", str(state_dir), "--out", str(out)], state_dir)
    assert out.is_file(), result.stdout + result.stderr
    assert str(out) in (result.stdout + result.stderr).replace("\n", "")
    text = out.read_text(encoding="utf-8")
    return state_dir, out, text, index_page(text)


def test_headline_numbers_equal_the_tables(report):
    state_dir, _, _, page = report
    expected = _query(state_dir, NUMBERS_SQL)[0]
    for name, value in expected.items():
        assert page.metrics[name]["value"] == str(value), name
    assert page.metrics["latest_id:dxr"]["value"] and page.metrics["latest_id:workspace"]["value"]
    assert expected["silver_files"] > 0 and expected["quarantined_files"] > 0 and expected["duplicate_groups"] > 0


def test_every_rule_has_a_chart_with_the_metrics(report):
    state_dir, _, _, page = report
    rows = _query(state_dir, "SELECT dataset, rule, ingestion_date, passed, failed FROM gold_expectation_metrics")
    expected: dict[str, dict] = defaultdict(dict)
    for row in rows:
        expected[f"rule:{row['dataset']}/{row['rule']}"][str(row["ingestion_date"])] = (row["passed"], row["failed"])
    assert {key for key in page.charts if key.startswith("rule:")} == set(expected)
    # what changed per snapshot: one chart per source of the run
    assert {key for key in page.charts if key.startswith("changes:")} == {"changes:dxr", "changes:workspace"}
    for key, by_date in expected.items():
        shown = {b["data-date"]: (int(b["data-passed"]), int(b["data-failed"])) for b in page.bars[key]}
        assert shown == by_date, key
        latest = by_date[max(by_date)]
        rule = key.removeprefix("rule:")
        assert page.metrics[f"rule_failed:{rule}"]["value"] == str(latest[1])
        assert page.metrics[f"rule_total:{rule}"]["value"] == str(sum(latest))
    # the demo data breaks rules, so the worst-rules section has rows from the quarantine
    assert any(name.startswith("worst_failed:") for name in page.metrics)


def test_quarantine_counts_per_rule(report):
    state_dir, _, _, page = report
    rows = _query(
        state_dir,
        "SELECT rule, count(*) AS n FROM (SELECT explode(failed_rules) AS rule FROM silver_file_records_quarantine) "
        "GROUP BY rule",
    )
    assert rows
    for row in rows:
        assert page.metrics[f"rule_quarantined:silver_file_records/{row['rule']}"]["value"] == str(row["n"])


@pytest.fixture(scope="module")
def table_counts(report):
    state_dir = report[0]
    names = [row["tableName"] for row in _query(state_dir, "SHOW TABLES") if not row.get("isTemporary")]
    counts_sql = " UNION ALL ".join(f"SELECT '{name}' AS name, count(*) AS n FROM {name}" for name in names)
    return {row["name"]: row["n"] for row in _query(state_dir, counts_sql)}


def test_table_counts(report, table_counts):
    page = report[3]
    assert page.table_rows == {name: str(n) for name, n in table_counts.items()}


def test_policy_numbers_when_present(report, table_counts):
    page = report[3]
    if "gold_policy_flags" not in table_counts:
        assert "policy_flags" not in page.metrics
        return
    assert page.metrics["policy_flags"]["value"] == str(table_counts["gold_policy_flags"])


def test_page_is_safe_and_self_contained(report):
    _, _, text, page = report
    assert TOKEN not in text and WORKSPACE_TOKEN not in text
    # Nothing is fetched (URLs inside file records are shown as text, never as src/href).
    assert page.scripts == 0 and page.external == []
    assert "<link" not in text and "@import" not in text and "url(" not in text


def test_chromium_renders_the_report(report, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser check")
    _, out, _, page = report
    dom = index_page(rendered_dom(out, tmp_path))
    assert set(dom.charts) == set(page.charts) and dom.charts
    for key, chart in dom.charts.items():
        assert float(chart["data-rendered-width"]) > 0 and float(chart["data-rendered-height"]) > 0, key
    for name, shown in page.metrics.items():
        assert dom.metrics[name]["value"] == shown["value"], name
