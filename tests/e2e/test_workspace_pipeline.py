"""Workspace inventory end to end: emulated workspace -> `file-records run` -> gold_user_inventory,
checked against the emulator's own ground truth per user and source."""

from __future__ import annotations

import pytest

from file_records.connectors.workspace.client import NOTEBOOK_SIZE_ESTIMATE_BYTES
from tests.e2e.conftest import _query

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

GIB = 1024**3


def _expected_user(tree, username):
    ws, dbfs = tree.truth(username, "workspace"), tree.truth(username, "dbfs")
    files = ws.files + dbfs.files
    size = ws.bytes + dbfs.bytes + (ws.notebooks + dbfs.notebooks) * NOTEBOOK_SIZE_ESTIMATE_BYTES
    statuses = [ws.status, dbfs.status]
    if all(s == "error" for s in statuses):
        status = "error"
    elif any(s in ("error", "partial") for s in statuses):
        status = "partial"
    else:
        status = "success" if files else "empty"
    if ws.files and dbfs.files:
        source = "both"
    elif dbfs.files:
        source = "dbfs"
    elif ws.files:
        source = "workspace"
    else:
        source = "none"
    return files, size, status, source


def test_inventory_matches_the_workspace(two_runs, workspace_tree):
    state_dir = two_runs[0]
    rows = _query(
        state_dir,
        "SELECT username, file_count, total_size, total_size_gb, status, file_source, error, active, "
        "estimated_bytes, workspace_files, dbfs_files FROM gold_user_inventory",
    )
    by_user = {row["username"]: row for row in rows}
    assert set(by_user) == {user.username for user in workspace_tree.users}
    for user in workspace_tree.users:
        row = by_user[user.username]
        files, size, status, source = _expected_user(workspace_tree, user.username)
        assert (row["file_count"], row["total_size"], row["status"], row["file_source"]) == (files, size, status, source), user.username
        assert row["total_size_gb"] == round(size / GIB, 2)
        assert row["active"] == user.active
        if status in ("error", "partial"):
            assert row["error"], f"{user.username}: a failed listing must say why"
        else:
            assert row["error"] is None


def test_rerun_same_day_adds_no_workspace_rows(two_runs):
    _, _, first, _, second = two_runs
    assert first["workspace_bronze_rows"] == second["workspace_bronze_rows"] > 0
    assert first["inventory_rows"] == second["inventory_rows"]


def test_scan_status_records_every_failure(two_runs, workspace_tree):
    state_dir = two_runs[0]
    rows = _query(state_dir, "SELECT username, source, status, error, retries FROM silver_workspace_scan_status")
    by_key = {(row["username"], row["source"]): row for row in rows}
    for (username, source), truth in workspace_tree.truths().items():
        assert by_key[(username, source)]["status"] == truth.status, (username, source)
    assert any(row["retries"] for row in rows), "the demo's rate limit should have caused retried requests"
