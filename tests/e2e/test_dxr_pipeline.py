"""The whole DXR path as a newcomer runs it: emulator -> `file-records run` (local Spark, real
pipeline) -> `file-records query`, twice in one state directory, plus a failing run."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from connectors.emulator.dxr_corpus import DEMO_MALFORMED_LINES, demo_records
from connectors.emulator.dxr_server import DxrEmulator, FaultConfig

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

TOKEN = "e2e-" + hashlib.sha256(b"file-records e2e").hexdigest()[:24]
CLI = [sys.executable, "-m", "file_records"]


def _cli(args, state_dir: Path, env_extra=None, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DXR_BEARER_TOKEN": TOKEN, **(env_extra or {})}
    env.pop("DXR_BASE_URL", None)
    result = subprocess.run(
        [*CLI, *args], cwd=state_dir.parent, env=env, capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"file-records {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def _query(state_dir: Path, sql: str) -> list[dict]:
    result = _cli(["query", "--state-dir", str(state_dir), "--format", "json", sql], state_dir)
    return orjson.loads(result.stdout)


COUNTS_SQL = """
SELECT
  (SELECT count(*) FROM bronze_dxr_files) AS bronze_rows,
  (SELECT count(DISTINCT snapshot_id) FROM bronze_dxr_files) AS snapshots,
  (SELECT count(*) FROM bronze_dxr_files WHERE record_type = 'query_summary') AS summaries,
  (SELECT count(*) FROM silver_file_records) AS silver_rows,
  (SELECT count(DISTINCT file_id) FROM silver_file_records) AS silver_ids,
  (SELECT count(*) FROM silver_file_records_quarantine) AS quarantined,
  (SELECT count(*) FROM gold_duplicate_files) AS duplicate_groups,
  (SELECT count(*) FROM gold_expectation_metrics) AS metric_rows
"""


@pytest.fixture(scope="module")
def corpus():
    return demo_records()


@pytest.fixture(scope="module")
def emulator(corpus):
    # Two queries overlap (files of 1-2 MB are in both): silver must still hold each file once.
    faults = FaultConfig(malformed_every=120, rate_limit_first_n=1, retry_after_seconds=1)
    with DxrEmulator(corpus, token=TOKEN, faults=faults) as emu:
        yield emu


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, emulator):
    state_dir = tmp_path_factory.mktemp("e2e") / "state"
    args = [
        "run", "--sources", "dxr", "--state-dir", str(state_dir), "--dxr-base-url", emulator.url,
        "--dxr-query", "size < 2000000", "--dxr-query", "size >= 1000000",
    ]
    first_run = _cli(args, state_dir)
    after_first = _query(state_dir, COUNTS_SQL)[0]
    second_run = _cli(args, state_dir)
    after_second = _query(state_dir, COUNTS_SQL)[0]
    return state_dir, first_run, after_first, second_run, after_second


def _valid_expected(corpus):
    """What the rules keep: the corpus minus the records built to break a drop rule."""
    from connectors.emulator.dxr_corpus import DEMO_BAD_RECORD_IDS

    bad_ids = set(DEMO_BAD_RECORD_IDS.values())
    return [r for r in corpus if r["fileId"] not in bad_ids or _only_warn_broken(r)]


def _only_warn_broken(record) -> bool:
    # Bad-by-date records break warn rules only; they stay in silver.
    size_ok = isinstance(record.get("size"), int) and record["size"] >= 0
    sha = record.get("contentSha256")
    sha_ok = sha is None or (len(sha) == 64 and all(c in "0123456789abcdef" for c in sha.lower()))
    return bool(record.get("path")) and size_ok and sha_ok and bool(record.get("datasource", {}).get("id"))


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


def test_second_run_same_day_adds_no_rows(two_runs):
    _, _, first, second_run, second = two_runs
    assert second == first
    assert "Run is COMPLETED" in second_run.stdout + second_run.stderr


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
    assert result.returncode == 1
    assert "refusing to fully refresh bronze_dxr_files" in result.stdout + result.stderr
