"""The whole DXR path as a newcomer runs it: emulator -> `file-records run` (local Spark, real
pipeline) -> `file-records query`, twice in one state directory, plus a failing run."""

from __future__ import annotations

from collections import defaultdict

import pytest

from benchmarks.run_timeline import parse as parse_run_log
from file_records.emulators.dxr_corpus import DEMO_MALFORMED_LINES
from tests.e2e.conftest import _cli, _query, _valid_expected

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

def test_first_run_fills_every_layer(two_runs, corpus):
    _, first_run, counts, _, _ = two_runs
    assert "bronze_dxr_files" in first_run.stdout and "gold_duplicate_files" in first_run.stdout
    assert counts["snapshots"] == 1
    assert counts["summaries"] == 2  # one ledger row per query
    expected_ids = {r["fileId"] for r in _valid_expected(corpus)}
    assert counts["silver_rows"] == counts["silver_ids"] == len(expected_ids)
    # every malformed line and every drop-rule breaker is in quarantine, none lost
    assert counts["quarantined"] >= len(corpus) - len(expected_ids) + 1
    assert counts["duplicate_groups"] > 0
    assert counts["metric_rows"] > 0


def test_second_run_same_day_adds_no_rows_and_rewrites_no_table(two_runs):
    _, _, first, second_run, second = two_runs
    assert second == first
    output = " ".join((second_run.stdout + second_run.stderr).split())
    assert "Nothing new: no snapshot is due" in output, output
    assert second_run.tables_unchanged


def test_tables_are_written_without_dictionary_encoding(two_runs):
    """file_records.local.spark turns parquet's dictionary encoding off: on these tables' columns (ids,
    paths, hashes) it cost a tenth of a large run's CPU for nothing."""
    import pyarrow.parquet as pq

    files = list((two_runs[0] / "warehouse").rglob("*.parquet"))
    assert files
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        for group in range(metadata.num_row_groups):
            for column in range(metadata.num_columns):
                chunk = metadata.row_group(group).column(column)
                assert not chunk.has_dictionary_page, (path, chunk.path_in_schema)


def test_silver_matches_the_tenant(two_runs, corpus):
    state_dir = two_runs[0]
    rows = _query(state_dir, "SELECT file_id, path, size, content_sha256 FROM silver_file_records")
    expected = {r["fileId"]: r for r in _valid_expected(corpus)}
    assert {row["file_id"] for row in rows} == set(expected)
    for row in rows:
        assert row["size"] == expected[row["file_id"]]["size"]
        assert row["path"] == expected[row["file_id"]].get("path")


def test_duplicates_match_the_corpus(two_runs, corpus):
    state_dir = two_runs[0]
    groups = _query(
        state_dir,
        "SELECT content_sha256, copies, total_bytes, reclaimable_bytes, keeper_file_id, keeper_path, member_paths "
        "FROM gold_duplicate_files",
    )
    by_hash = defaultdict(list)
    for record in _valid_expected(corpus):
        sha = record.get("contentSha256")
        if sha and record["size"] > 0:
            by_hash[sha.lower()].append(record)
    expected = {sha: members for sha, members in by_hash.items() if len(members) > 1}
    assert {g["content_sha256"] for g in groups} == set(expected)
    for group in groups:
        members = expected[group["content_sha256"]]
        assert group["copies"] == len(members)
        assert group["total_bytes"] == sum(m["size"] for m in members)
        keeper = next(m for m in members if m["fileId"] == group["keeper_file_id"])
        assert group["reclaimable_bytes"] == group["total_bytes"] - keeper["size"]
        assert group["keeper_path"] == keeper.get("path")
        assert sorted(group["member_paths"]) == sorted(m.get("path") or "" for m in members)


def test_quarantine_keeps_bad_rows_with_reasons(two_runs):
    state_dir = two_runs[0]
    rows = _query(state_dir, "SELECT file_id, raw_json, failed_rules FROM silver_file_records_quarantine")
    reasons = {rule for row in rows for rule in row["failed_rules"]}
    assert "json_parsed" in reasons and "size_not_negative" in reasons and "sha256_format" in reasons
    malformed = {line.decode() for line in DEMO_MALFORMED_LINES}
    assert malformed & {row["raw_json"] for row in rows}


def test_bad_token_fails_the_run_without_leaking_it(tmp_path, emulator):
    state_dir = tmp_path / "state"
    secret = "not-the-right-token-" + "x" * 20
    result = _cli(
        ["run", "--sources", "dxr", "--state-dir", str(state_dir), "--dxr-base-url", emulator.url],
        state_dir,
        env_extra={"DXR_BEARER_TOKEN": secret},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "401" in output and "DXR_BEARER_TOKEN" in output
    assert secret not in output


def test_bronze_cannot_be_fully_refreshed(tmp_path, emulator):
    result = _cli(
        ["run", "--sources", "dxr", "--state-dir", str(tmp_path / "s"), "--dxr-base-url", emulator.url,
         "--full-refresh", "bronze_dxr_files"],
        tmp_path,
        check=False,
    )
    assert result.returncode == 2  # bad input, refused before Spark starts
    assert "refusing to fully refresh bronze_dxr_files" in result.stdout + result.stderr


def test_the_engine_orders_the_whole_graph_in_one_run(two_runs):
    """No flow plan hides a read from the engine (file_records.frames), so the runner refreshes every
    table in one engine run instead of layer by layer."""
    state_dir = two_runs[0]
    first_log = sorted((state_dir / "logs").glob("run-*.log"))[0].read_text()
    plan = [line for line in first_log.splitlines() if line.startswith("refresh plan:")]
    assert plan == ["refresh plan: one run; the engine orders the flows by their reads"], plan


def test_the_run_log_shows_where_the_time_went(two_runs):
    """The run log names what each dataset reads next to the flows' events, so that
    benchmarks/run_timeline.py finds a real run's critical path: from a bronze table, each flow
    reading the one before it, to the last flow to complete."""
    state_dir = two_runs[0]
    timeline = parse_run_log(sorted((state_dir / "logs").glob("run-*.log"))[0].read_text().splitlines())
    assert len(timeline.ran()) == len(timeline.flows) > 20 and set(timeline.flows) <= set(timeline.reads)
    path = timeline.critical_path()
    assert path[0].name.startswith("bronze_"), path
    assert all(before.name in timeline.reads[after.name] for before, after in zip(path, path[1:], strict=False))
    assert path[-1].completed == max(flow.completed for flow in timeline.ran())


NEWEST_SNAPSHOT_SQL = """
SELECT
  (SELECT max(snapshot_id) FROM bronze_dxr_files) AS bronze,
  (SELECT max(snapshot_id) FROM silver_file_records_candidates) AS candidates,
  (SELECT min(snapshot_id) FROM silver_file_records) AS silver,
  (SELECT min(snapshot_id) FROM gold_duplicate_files) AS duplicates,
  (SELECT max(run_id) FROM gold_expectation_metrics_kept) AS metrics,
  (SELECT max(opened_snapshot_id) FROM silver_file_history) AS history,
  (SELECT count(DISTINCT run_id) FROM gold_expectation_metrics_kept) AS metric_runs
"""


def test_a_second_snapshot_reaches_every_table_in_one_run(tmp_path, emulator):
    """With every table already there, each one must wait for what it reads: after a forced second
    snapshot every table holds that snapshot, not the first one."""
    state_dir = tmp_path / "state"
    args = ["run", "--sources", "dxr", "--state-dir", str(state_dir), "--dxr-base-url", emulator.url]
    _cli(args, state_dir)
    first = _query(state_dir, NEWEST_SNAPSHOT_SQL)[0]
    _cli([*args, "--force-snapshot"], state_dir)
    second = _query(state_dir, NEWEST_SNAPSHOT_SQL)[0]
    assert second["bronze"] > first["bronze"]
    assert {second[name] for name in ("candidates", "silver", "duplicates", "metrics")} == {second["bronze"]}
    assert second["metric_runs"] == 2 and second["history"] <= second["bronze"]
    logs = sorted((state_dir / "logs").glob("run-*.log"))
    assert "refresh plan: one run" in logs[-1].read_text()
