"""What changed since the last run, from the state directory alone (no Spark)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from file_records.errors import StateError
from file_records.local import freshness
from file_records.local.freshness import RunInputs, plan_refresh

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
TABLES = ["bronze_dxr_files", "silver_file_records", "silver_file_records_quarantine", "gold_expectation_metrics",
          "silver_all_files", "gold_policy_flags", "gold_policy_summary"]


def write_checkpoint(storage, table, batches: list[str], committed: int):
    base = freshness.checkpoint_dir(storage, table) / table / "0"
    (base / "offsets").mkdir(parents=True)
    (base / "commits").mkdir()
    for number, taken_at in enumerate(batches):
        (base / "offsets" / str(number)).write_text(
            'v1\n{"batchWatermarkMs":0}\n' + orjson.dumps({"seq": number + 1, "taken_at": taken_at}).decode())
        if number < committed:
            (base / "commits" / str(number)).write_text('v1\n{"nextBatchWatermarkMs":0}')


def inputs(tmp_path, rules_text="- rule", catalogue_text="policies: []", conf=None):
    rules = tmp_path / "silver_file_records.yml"
    rules.write_text(rules_text)
    catalogue = tmp_path / "catalogue.yml"
    catalogue.write_text(catalogue_text)
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "a.py").write_text("x = 1\n")
    conf = conf or {"file_records.dxr.enabled": "true", "file_records.dxr.base_url": "https://a.example.com",
                    "file_records.dxr.force_snapshot_after": NOW.isoformat()}
    return RunInputs.collect(conf, [code], {"silver_file_records": rules}, catalogue, None)


def test_the_last_committed_snapshot_decides_what_is_due(tmp_path):
    write_checkpoint(tmp_path, "bronze_dxr_files", ["2026-11-30T02:00:00Z", "2026-12-01T11:00:00Z"], committed=1)
    # batch 1 was planned but never committed (a crash): it does not count
    assert freshness.last_snapshot_taken(tmp_path, "bronze_dxr_files") == datetime(2026, 11, 30, 2, tzinfo=timezone.utc)
    assert freshness.snapshot_due(tmp_path, "bronze_dxr_files", NOW, timedelta(hours=24), None)
    assert not freshness.snapshot_due(tmp_path, "bronze_dxr_files", NOW, timedelta(hours=48), None)
    assert freshness.snapshot_due(tmp_path, "bronze_dxr_files", NOW, timedelta(hours=48), NOW)  # --force-snapshot
    assert freshness.snapshot_due(tmp_path, "bronze_workspace_objects", NOW, timedelta(hours=24), None)  # never taken


def test_nothing_changed_is_an_idle_run(tmp_path):
    warehouse = tmp_path / "warehouse"
    for table in TABLES:
        (warehouse / table).mkdir(parents=True)
    now = inputs(tmp_path)
    previous = {"fingerprints": dict(now.fingerprints)}
    assert plan_refresh(previous, now, [], TABLES, warehouse).idle
    # a different forced-snapshot time is not a change of what the tables hold
    later = inputs(tmp_path, conf={"file_records.dxr.enabled": "true", "file_records.dxr.base_url": "https://a.example.com",
                                   "file_records.dxr.force_snapshot_after": "2027-01-01T00:00:00Z"})
    assert plan_refresh(previous, later, [], TABLES, warehouse).idle


def test_each_change_refreshes_what_it_feeds(tmp_path):
    warehouse = tmp_path / "warehouse"
    for table in TABLES:
        (warehouse / table).mkdir(parents=True)
    before = inputs(tmp_path)
    previous = {"fingerprints": dict(before.fingerprints)}

    due = plan_refresh(previous, before, ["dxr"], TABLES, warehouse)
    assert due.start == {"bronze_dxr_files"} and due.reasons == ["a new dxr snapshot is due"]

    rules = plan_refresh(previous, inputs(tmp_path, rules_text="- other rule"), [], TABLES, warehouse)
    assert rules.start == {"silver_file_records_candidates"}

    policies = plan_refresh(previous, inputs(tmp_path, catalogue_text="policies: [x]"), [], TABLES, warehouse)
    assert policies.start == set(freshness.POLICY_TABLES)

    moved = plan_refresh(previous, inputs(tmp_path, conf={"file_records.dxr.base_url": "https://b.example.com"}),
                         [], TABLES, warehouse)
    assert moved.everything

    (warehouse / "gold_policy_flags").rmdir()
    assert plan_refresh(previous, before, [], TABLES, warehouse).everything
    assert plan_refresh(None, before, [], TABLES, warehouse).everything


def test_save_and_load_last_run(tmp_path):
    now = inputs(tmp_path)
    freshness.save_last_run(tmp_path, now, {table: 1 for table in TABLES}, NOW)
    loaded = freshness.load_last_run(tmp_path)
    assert loaded["fingerprints"] == dict(now.fingerprints) and loaded["tables"] == sorted(TABLES)
    (tmp_path / freshness.LAST_RUN_FILE).write_text("{broken")
    assert freshness.load_last_run(tmp_path) is None


def test_bronze_that_lost_committed_snapshots_is_refused(tmp_path):
    storage, warehouse = tmp_path / "storage", tmp_path / "warehouse"
    write_checkpoint(storage, "bronze_dxr_files", ["2026-11-30T02:00:00Z"], committed=1)
    table = warehouse / "bronze_dxr_files"
    (table / "_spark_metadata").mkdir(parents=True)
    part = table / "part-0.parquet"
    part.write_bytes(b"PAR1")
    (table / "_spark_metadata" / "0").write_text('v1\n' + orjson.dumps(
        {"path": part.as_uri(), "size": 4, "isDir": False, "action": "add"}).decode())
    freshness.verify_bronze(storage, warehouse, ["bronze_dxr_files", "bronze_workspace_objects"])
    part.unlink()
    with pytest.raises(StateError, match="1 of its files are missing"):
        freshness.verify_bronze(storage, warehouse, ["bronze_dxr_files"])
    import shutil

    shutil.rmtree(table)
    with pytest.raises(StateError, match="the table is gone"):
        freshness.verify_bronze(storage, warehouse, ["bronze_dxr_files"])


def test_downstream_follows_the_graph():
    reads = {"bronze_dxr_files": set(), "silver_file_records": {"bronze_dxr_files"},
             "gold_duplicate_files": {"silver_file_records"}, "bronze_workspace_objects": set(),
             "silver_workspace_files": {"bronze_workspace_objects"},
             "silver_all_files": {"silver_file_records", "silver_workspace_files"}}
    assert freshness.downstream(reads, ["bronze_workspace_objects"]) == {
        "bronze_workspace_objects", "silver_workspace_files", "silver_all_files"}
    assert freshness.downstream(reads, ["gold_duplicate_files", "not_a_table"]) == {"gold_duplicate_files"}


def test_a_copied_state_directory_is_refused_for_spark(tmp_path):
    import shutil

    from file_records.local.spark import StatePaths

    original = StatePaths(tmp_path / "state").create()
    assert original.location_file.read_text().strip() == str((tmp_path / "state").resolve())
    StatePaths(tmp_path / "state").create()  # the same place: fine
    shutil.copytree(tmp_path / "state", tmp_path / "backup")
    with pytest.raises(StateError, match="is a copy or a move of the state directory"):
        StatePaths(tmp_path / "backup").create()
