"""Workspace inventory logic on small DataFrames: the predecessor's columns, computed right."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from file_records.connectors.workspace.source import WORKSPACE_SPARK_SCHEMA
from file_records.pipelines.logic import workspace

pytestmark = pytest.mark.spark

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
NAMES = [field.name for field in WORKSPACE_SPARK_SCHEMA.fields]


def _status(user, source, status, files=0, size=0, error=None, scan="s1", active=True, estimated=0,
            home_missing=False):
    row = {name: None for name in NAMES}
    row.update(
        record_type="status", username=user, user_active=active, source=source, status=status, files=files,
        bytes=size, estimated_bytes=estimated, requests=1, retries=0, duration_seconds=0.1, error=error,
        depth_capped=False, scan_id=scan, ingestion_date=date(2026, 11, 1), ingested_at=T0,
        home_missing=home_missing,
    )
    return row


def _object(user, source, path, size, modified=T0, scan="s1"):
    row = {name: None for name in NAMES}
    row.update(
        record_type="object", username=user, user_active=True, source=source, path=path, object_type="FILE",
        size=size, size_is_exact=True, size_estimated=False, modified_at=modified, scan_id=scan,
        ingestion_date=date(2026, 11, 1), ingested_at=T0,
    )
    return row


def _inventory(spark, rows):
    bronze = spark.createDataFrame([tuple(r[n] for n in NAMES) for r in rows], WORKSPACE_SPARK_SCHEMA)
    out = workspace.user_inventory(workspace.scan_status(bronze), workspace.rule_input_history(bronze))
    return {row.username: row for row in out.collect()}


def test_statuses_sources_and_sizes(spark):
    gib = 1024**3
    rows = [
        _status("both@x", "workspace", "success", 2, 100, estimated=10),
        _status("both@x", "dbfs", "success", 1, 3 * gib),
        _object("both@x", "dbfs", "/Users/both@x/big", 3 * gib, modified=T0.replace(year=2025)),
        _status("empty@x", "workspace", "empty"),
        _status("empty@x", "dbfs", "empty"),
        _status("half@x", "workspace", "success", 4, 40),
        _status("half@x", "dbfs", "error", error="dbfs list /Users/half@x: gave up after 6 attempts; last: HTTP 503"),
        _status("wsonly@x", "workspace", "success", 2, 20),
        _status("wsonly@x", "dbfs", "empty", home_missing=True),
        _status("dbfsonly@x", "workspace", "empty", home_missing=True),
        _status("dbfsonly@x", "dbfs", "success", 1, 7),
        _status("quiet@x", "workspace", "empty"),
        _status("quiet@x", "dbfs", "empty", home_missing=True),
        _status("denied@x", "workspace", "error", error="HTTP 403 PERMISSION_DENIED"),
        _status("denied@x", "dbfs", "error", error="HTTP 403 PERMISSION_DENIED"),
        _status("sub@x", "workspace", "partial", 1, 5, error="gave up after 6 attempts"),
        _status("sub@x", "dbfs", "empty"),
    ]
    inv = _inventory(spark, rows)
    both = inv["both@x"]
    assert (both.file_count, both.total_size, both.status, both.file_source) == (3, 3 * gib + 100, "success", "both")
    assert both.total_size_gb == 3.0 and both.estimated_bytes == 10 and both.error is None
    assert both.last_modified_at.year == 2025
    assert (inv["empty@x"].status, inv["empty@x"].file_source) == ("empty", "none")
    assert (inv["half@x"].status, inv["half@x"].file_source) == ("partial", "workspace")
    assert inv["half@x"].error.startswith("dbfs: dbfs list")
    # a missing home is normal: no error, no partial
    assert (inv["wsonly@x"].status, inv["wsonly@x"].file_source, inv["wsonly@x"].error) == ("success", "workspace", None)
    assert (inv["dbfsonly@x"].status, inv["dbfsonly@x"].file_source) == ("success", "dbfs")
    assert (inv["quiet@x"].status, inv["quiet@x"].file_source, inv["quiet@x"].error) == ("empty", "none", None)
    assert (inv["denied@x"].status, inv["denied@x"].file_count) == ("error", 0)
    assert "workspace: HTTP 403" in inv["denied@x"].error
    assert inv["sub@x"].status == "partial"


def test_scan_status_carries_home_missing(spark):
    rows = [_status("ana@x", "dbfs", "empty", home_missing=True), _status("ana@x", "workspace", "empty")]
    rows[1]["home_missing"] = None  # a scan written before the column existed
    bronze = spark.createDataFrame([tuple(r[n] for n in NAMES) for r in rows], WORKSPACE_SPARK_SCHEMA)
    out = {r.source: r for r in workspace.scan_status(bronze).collect()}
    assert (out["dbfs"].home_missing, out["workspace"].home_missing) == (True, False)
    assert out["dbfs"].error is None


def test_one_row_per_user_per_scan_and_active_flag(spark):
    rows = [
        _status("ana@x", "workspace", "success", 1, 1, scan="s1"),
        _status("ana@x", "workspace", "success", 2, 2, scan="s2", active=False),
    ]
    bronze = spark.createDataFrame([tuple(r[n] for n in NAMES) for r in rows], WORKSPACE_SPARK_SCHEMA)
    out = workspace.user_inventory(workspace.scan_status(bronze), workspace.rule_input_history(bronze)).collect()
    assert sorted((r.scan_id, r.file_count, r.active) for r in out) == [("s1", 1, True), ("s2", 2, False)]


def test_predecessor_columns_come_first():
    assert workspace.PREDECESSOR_COLUMNS == [
        "username", "file_count", "total_size", "total_size_gb", "status", "file_source", "error"
    ]


def test_silver_takes_the_newest_scan_once_per_path(spark):
    rows = [
        _object("ana@x", "dbfs", "/Users/ana@x/a", 1, scan="20261101T000000Z-0001"),
        _object("ana@x", "dbfs", "/Users/ana@x/a", 2, scan="20261102T000000Z-0002"),
        _object("ana@x", "dbfs", "/Users/ana@x/a", 2, scan="20261102T000000Z-0002"),
    ]
    bronze = spark.createDataFrame([tuple(r[n] for n in NAMES) for r in rows], WORKSPACE_SPARK_SCHEMA)
    out = workspace.workspace_file_candidates(bronze).collect()
    assert [(r.path, r.size, r.scan_id) for r in out] == [("/Users/ana@x/a", 2, "20261102T000000Z-0002")]
