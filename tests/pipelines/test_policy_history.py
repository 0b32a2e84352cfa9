"""Policy history: runs rebuilt from bronze as silver was on each date, and the summary's change columns."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from file_records.connectors.dxr.schema import COLUMN_NAMES, DXR_SPARK_SCHEMA
from file_records.connectors.workspace.source import WORKSPACE_SPARK_SCHEMA
from file_records.expectations.rules import load_rules
from file_records.pipelines.logic import dxr, policy_history, workspace
from file_records.policies.evaluate import policy_flags
from file_records.policies.model import load_catalogue
from file_records.policies.unified import unified_files

pytestmark = pytest.mark.spark

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
T0 = datetime(2026, 10, 30, tzinfo=timezone.utc)
SHA = "a" * 64
WS_NAMES = [field.name for field in WORKSPACE_SPARK_SCHEMA.fields]


def _file(file_id, snapshot, day, size=100, sha=SHA, created=T0, **values):
    row = {name: None for name in COLUMN_NAMES}
    row.update(
        record_type="file", source_query="q", snapshot_id=snapshot, ingestion_date=day, ingested_at=T0,
        datasource_id="ds", datasource_name="DS", labels=[], parse_error=None, file_id=file_id,
        path=f"/share/{file_id}.doc", file_name=f"{file_id}.doc", size=size, content_sha256=sha,
        created_at=created, last_modified_at=created,
    )
    row.update(values)
    return row


def _object(user, path, scan, day, size=10):
    row = {name: None for name in WS_NAMES}
    row.update(
        record_type="object", username=user, user_active=True, source="workspace", path=path, object_type="FILE",
        size=size, size_is_exact=True, size_estimated=False, modified_at=T0, scan_id=scan, ingestion_date=day,
        ingested_at=T0,
    )
    return row


@pytest.fixture(scope="module")
def bronzes(spark):
    dxr_rows = [
        # D1: two copies of SHA (one flagged duplicate).
        _file("keeper", "20261101T010000Z-0001", D1, created=T0.replace(year=2020)),
        _file("copy1", "20261101T010000Z-0001", D1),
        # D2, first snapshot of the day: superseded by the forced second one below.
        _file("keeper", "20261102T010000Z-0002", D2, created=T0.replace(year=2020)),
        # D2, second snapshot: three copies, plus a row the size rule quarantines (never evaluated).
        _file("keeper", "20261102T090000Z-0003", D2, created=T0.replace(year=2020)),
        _file("copy1", "20261102T090000Z-0003", D2),
        _file("copy2", "20261102T090000Z-0003", D2),
        _file("broken", "20261102T090000Z-0003", D2, size=-5),
        # The same file returned by two queries of one snapshot counts once.
        _file("copy2", "20261102T090000Z-0003", D2, source_query="q2"),
    ]
    ws_rows = [
        _object("ann@example.com", "/Users/ann@example.com/a.py", "20261101T020000Z-0001", D1),
        _object("ann@example.com", "/Users/ann@example.com/a.py", "20261103T020000Z-0002", D3),
        _object("ann@example.com", "/Users/ann@example.com/b.py", "20261103T020000Z-0002", D3),
    ]
    dxr_bronze = spark.createDataFrame([tuple(r[n] for n in COLUMN_NAMES) for r in dxr_rows], DXR_SPARK_SCHEMA)
    ws_bronze = spark.createDataFrame([tuple(r[n] for n in WS_NAMES) for r in ws_rows], WORKSPACE_SPARK_SCHEMA)
    return dxr_bronze, ws_bronze


def _runs(spark, bronzes, days):
    return sorted(r.run_date for r in policy_history.run_dates(list(bronzes), days).collect())


def test_run_dates_are_snapshot_dates_of_any_source_within_the_window(spark, bronzes):
    assert _runs(spark, bronzes, 90) == [D1, D2, D3]
    assert _runs(spark, bronzes, 2) == [D2, D3]
    assert _runs(spark, bronzes, 1) == [D3]
    with pytest.raises(ValueError, match="at least 1"):
        policy_history.run_dates(list(bronzes), 0)


def test_each_run_sees_the_newest_snapshot_on_or_before_it(spark, bronzes):
    dxr_bronze, ws_bronze = bronzes
    runs = policy_history.run_dates([dxr_bronze, ws_bronze], 90)
    dxr_files = policy_history.dxr_files_by_run(dxr_bronze, runs, load_rules("silver_file_records"))
    by_run = {}
    for row in dxr_files.collect():
        by_run.setdefault(row.ingestion_date, []).append((row.file_id, row.snapshot_id))
    assert sorted(by_run[D1]) == [("copy1", "20261101T010000Z-0001"), ("keeper", "20261101T010000Z-0001")]
    # D2: the day's newest snapshot, the quarantined row left out, the double-listed file once.
    newest_d2 = "20261102T090000Z-0003"
    assert sorted(by_run[D2]) == [("copy1", newest_d2), ("copy2", newest_d2), ("keeper", newest_d2)]
    # D3: DXR took no snapshot that day; its last one still counts (not zero files).
    assert sorted(by_run[D3]) == sorted(by_run[D2])

    ws_files = policy_history.workspace_files_by_run(ws_bronze, runs, load_rules("silver_workspace_files"))
    ws_by_run = {}
    for row in ws_files.collect():
        ws_by_run.setdefault(row.ingestion_date, set()).add(row.path)
    assert ws_by_run[D1] == ws_by_run[D2] == {"/Users/ann@example.com/a.py"}
    assert ws_by_run[D3] == {"/Users/ann@example.com/a.py", "/Users/ann@example.com/b.py"}


def _summary(bronzes, days=90):
    dxr_bronze, ws_bronze = bronzes
    return policy_history.summary_history(
        load_catalogue(), days=days,
        dxr_bronze=dxr_bronze, dxr_rules=load_rules("silver_file_records"),
        workspace_bronze=ws_bronze, workspace_rules=load_rules("silver_workspace_files"),
    )


def test_summary_counts_and_changes_per_run(bronzes):
    rows = {(r.policy, r.detected_on): r for r in _summary(bronzes).collect()}
    dup = [rows[("duplicate", day)] for day in (D1, D2, D3)]
    assert [r.files for r in dup] == [1, 2, 2]
    assert [r.bytes for r in dup] == [100, 200, 200]
    assert [r.previous_detected_on for r in dup] == [None, D1, D2]
    assert [r.files_change for r in dup] == [None, 1, 0]
    assert [r.bytes_change for r in dup] == [None, 100, 0]


def test_summary_window_limits_the_runs(bronzes):
    days = {r.detected_on for r in _summary(bronzes, days=2).collect()}
    assert days == {D2, D3}


def test_newest_run_of_the_summary_is_what_the_flags_table_holds(spark, bronzes):
    """gold_policy_flags (silver of each source, dated to the newest run) and the newest summary
    row agree policy by policy."""
    dxr_bronze, ws_bronze = bronzes
    dxr_rules, ws_rules = load_rules("silver_file_records"), load_rules("silver_workspace_files")
    from file_records.expectations import engine

    silver_dxr = engine.apply_rules(dxr.file_record_candidates(dxr_bronze), dxr_rules).select(*dxr.SILVER_COLUMNS)
    silver_ws = engine.apply_rules(workspace.workspace_file_candidates(ws_bronze), ws_rules)
    flags = policy_flags(
        policy_history.latest_run(unified_files(silver_dxr, silver_ws)),
        load_catalogue(),
        duplicates_df=dxr.duplicate_files(silver_dxr),
        detected_on_col=policy_history.RUN_DATE,
    ).collect()
    assert flags and {f.detected_on for f in flags} == {D3}
    expected: dict[str, set] = {}
    for f in flags:
        expected.setdefault(f.policy, set()).add((f.source_system, f.file_id))
    newest = {r.policy: r.files for r in _summary(bronzes).collect() if r.detected_on == D3 and r.files}
    assert newest == {policy: len(files) for policy, files in expected.items()}


@pytest.mark.parametrize("value", ["0", "-3", "ninety", "1.5"])
def test_history_days_setting_must_be_a_positive_whole_number(value):
    from file_records.pipelines import conf as pipeline_conf

    with pytest.raises(ValueError, match="file_records.policies.history_days"):
        pipeline_conf.options(lambda key, default=None: value if key.endswith("history_days") else default, "policies")
    assert pipeline_conf.options(lambda key, default=None: default, "policies").history_days == 90
