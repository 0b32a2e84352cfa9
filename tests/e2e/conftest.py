"""Shared end-to-end fixtures: one emulator and one pipeline state, built once per test session."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from file_records.emulators.dxr_corpus import demo_records
from file_records.emulators.dxr_server import DxrEmulator, FaultConfig
from file_records.emulators.workspace_server import WorkspaceEmulator
from file_records.emulators.workspace_tree import SyntheticWorkspace

TOKEN = "e2e-" + hashlib.sha256(b"file-records e2e").hexdigest()[:24]
WORKSPACE_TOKEN = "dapi" + hashlib.sha256(b"file-records e2e workspace").hexdigest()[:32]
CLI = [sys.executable, "-m", "file_records"]


def _cli(args, state_dir: Path, env_extra=None, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DXR_BEARER_TOKEN": TOKEN, "DATABRICKS_TOKEN": WORKSPACE_TOKEN, **(env_extra or {})}
    for name in ("DXR_BASE_URL", "DATABRICKS_CONFIG_PROFILE"):
        env.pop(name, None)
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
  (SELECT count(*) FROM gold_expectation_metrics) AS metric_rows,
  (SELECT count(*) FROM bronze_workspace_objects) AS workspace_bronze_rows,
  (SELECT count(*) FROM silver_workspace_files) AS workspace_files,
  (SELECT count(*) FROM gold_user_inventory) AS inventory_rows
"""


@pytest.fixture(scope="session")
def corpus():
    return demo_records()


@pytest.fixture(scope="session")
def emulator(corpus):
    # Two queries overlap (files of 1-2 MB are in both): silver must still hold each file once.
    faults = FaultConfig(malformed_every=120, rate_limit_first_n=1, retry_after_seconds=1)
    with DxrEmulator(corpus, token=TOKEN, faults=faults) as emu:
        yield emu


@pytest.fixture(scope="session")
def workspace_tree():
    return SyntheticWorkspace.demo()


@pytest.fixture(scope="session")
def workspace_emulator(workspace_tree):
    # A request-rate limit the scan must ride out with 429 + Retry-After.
    with WorkspaceEmulator(workspace_tree, token=WORKSPACE_TOKEN, rate_limit_per_second=150.0) as emu:
        yield emu


def _table_files(state_dir: Path) -> dict[str, tuple[int, int]]:
    warehouse = state_dir / "warehouse"
    return {str(p.relative_to(warehouse)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in warehouse.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory, emulator, workspace_emulator):
    """Both sources, run twice in one state directory (the same day)."""
    state_dir = tmp_path_factory.mktemp("e2e") / "state"
    args = [
        "run", "--sources", "dxr,workspace", "--state-dir", str(state_dir), "--dxr-base-url", emulator.url,
        "--dxr-query", "size < 2000000", "--dxr-query", "size >= 1000000",
    ]
    env = {"DATABRICKS_HOST": workspace_emulator.url}
    first_run = _cli(args, state_dir, env_extra=env)
    after_first = _query(state_dir, COUNTS_SQL)[0]
    tables_before = _table_files(state_dir)
    second_run = _cli(args, state_dir, env_extra=env)
    # What the idle second run left on disk: every table file as it was (name, size, mtime).
    second_run.tables_unchanged = _table_files(state_dir) == tables_before
    after_second = _query(state_dir, COUNTS_SQL)[0]
    return state_dir, first_run, after_first, second_run, after_second


def _valid_expected(corpus):
    """What the rules keep: the corpus minus the records built to break a drop rule."""
    from file_records.emulators.dxr_corpus import DEMO_BAD_RECORD_IDS

    bad_ids = set(DEMO_BAD_RECORD_IDS.values())
    return [r for r in corpus if r["fileId"] not in bad_ids or _only_warn_broken(r)]


def _only_warn_broken(record) -> bool:
    # Bad-by-date records break warn rules only; they stay in silver.
    size_ok = isinstance(record.get("size"), int) and record["size"] >= 0
    sha = record.get("contentSha256")
    sha_ok = sha is None or (len(sha) == 64 and all(c in "0123456789abcdef" for c in sha.lower()))
    return bool(record.get("path")) and size_ok and sha_ok and bool(record.get("datasource", {}).get("id"))


