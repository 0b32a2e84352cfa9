"""DXR silver/gold logic on small DataFrames (no pipeline run)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from file_records.connectors.dxr.schema import COLUMN_NAMES, DXR_SPARK_SCHEMA
from file_records.pipelines.logic import dxr

pytestmark = pytest.mark.spark

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _row(**values):
    base = {name: None for name in COLUMN_NAMES}
    base.update(
        record_type="file", source_query="q", snapshot_id="20261101T000000Z-0001",
        ingestion_date=date(2026, 11, 1), ingested_at=T0, datasource_id="ds", datasource_name="DS",
        labels=[], parse_error=None,
    )
    base.update(values)
    return base


def _bronze(spark, rows):
    return spark.createDataFrame([tuple(r[name] for name in COLUMN_NAMES) for r in rows], DXR_SPARK_SCHEMA)


def test_silver_takes_only_the_newest_snapshot(spark):
    rows = [
        _row(file_id="old", path="/a", size=1, snapshot_id="20261101T000000Z-0001"),
        _row(file_id="new", path="/b", size=2, snapshot_id="20261102T000000Z-0002"),
    ]
    silver = dxr.silver_file_records(_bronze(spark, rows))
    assert [r.file_id for r in silver.collect()] == ["new"]


def test_an_empty_newest_snapshot_empties_silver(spark):
    rows = [
        _row(file_id="old", path="/a", size=1, snapshot_id="20261101T000000Z-0001"),
        _row(record_type="query_summary", snapshot_id="20261102T000000Z-0002", raw_json='{"records": 0}'),
    ]
    assert dxr.silver_file_records(_bronze(spark, rows)).count() == 0


def test_dedup_keeps_one_row_per_file_and_every_row_without_id(spark):
    rows = [
        _row(file_id="f1", path="/a", size=1, last_modified_at=T0, source_query="q2", raw_json="x"),
        _row(file_id="f1", path="/a", size=1, last_modified_at=T0.replace(day=2), source_query="q1", raw_json="y"),
        _row(file_id=None, parse_error="invalid JSON", raw_json="{broken"),
        _row(file_id=None, parse_error="invalid JSON", raw_json="{broken2"),
    ]
    out = dxr.file_record_candidates(_bronze(spark, rows)).collect()
    kept = [r for r in out if r.file_id == "f1"]
    assert len(kept) == 1 and kept[0].last_modified_at.day == 2
    assert sorted(r.raw_json for r in out if r.file_id is None) == ["{broken", "{broken2"]


def test_dedup_is_per_snapshot_and_ties_break_on_the_query(spark):
    s1, s2 = "20261101T000000Z-0001", "20261102T000000Z-0002"
    rows = [
        _row(file_id="f1", path="/a", size=1, snapshot_id=s1, source_query="q2", raw_json="a"),
        _row(file_id="f1", path="/a", size=1, snapshot_id=s2, source_query="q2", raw_json="b"),
        _row(file_id="f1", path="/a", size=1, snapshot_id=s2, source_query="q1", raw_json="c"),
        _row(file_id="f2", path="/b", size=2, snapshot_id=s2, source_query="q2", raw_json="d"),
    ]
    out = dxr.file_history(_bronze(spark, rows)).collect()
    assert sorted((r.snapshot_id, r.file_id, r.source_query, r.raw_json) for r in out) == [
        (s1, "f1", "q2", "a"), (s2, "f1", "q1", "c"), (s2, "f2", "q2", "d")
    ]


def test_a_trim_before_the_dedupe_keeps_the_same_copy(spark):
    """The raw line's hash breaks the last tie; it is taken before the trim blanks the line, so a
    trimmed snapshot keeps the same copy as an untrimmed one."""
    from pyspark.sql import functions as F

    copies = [_row(file_id="f1", path=f"/copy-{i}", size=i, last_modified_at=T0, source_query="q", raw_json=f"line {i}")
              for i in range(8)]
    bronze = _bronze(spark, copies)
    untrimmed = dxr.file_record_candidates(bronze).collect()
    trimmed = dxr.file_record_candidates(bronze, lambda rows: rows.withColumn("raw_json", F.lit(None))).collect()
    assert len(untrimmed) == len(trimmed) == 1
    assert trimmed[0].path == untrimmed[0].path and trimmed[0].raw_json is None


def test_silver_flattens_labels_and_owner_and_lowercases_hashes(spark):
    rows = [
        _row(
            file_id="f1", path="/a", size=1, content_sha256="AB" * 32,
            labels=[{"id": "l1", "name": "Records"}], owner={"id": "o", "account_type": "USER", "name": "Ana", "email": "ana@x"},
        )
    ]
    row = dxr.silver_file_records(_bronze(spark, rows)).collect()[0]
    assert row.labels == ["Records"] and row.label_ids == ["l1"]
    assert row.owner_email == "ana@x" and row.owner_name == "Ana"
    assert row.content_sha256 == "ab" * 32
    assert "raw_json" not in row.asDict()


def test_silver_label_lists_keep_missing_lists_and_missing_labels(spark):
    rows = [
        _row(file_id="none", path="/a", size=1, labels=None, dlp_labels=None),
        _row(file_id="gap", path="/b", size=1, labels=[{"id": "l1", "name": "A"}, None, {"id": None, "name": "C"}],
             dlp_labels=[{"id": "d1", "name": "PII"}]),
    ]
    rows = {r.file_id: r for r in dxr.silver_file_records(_bronze(spark, rows)).collect()}
    assert rows["none"].labels is None and rows["none"].label_ids is None and rows["none"].dlp_labels is None
    assert rows["gap"].labels == ["A", None, "C"] and rows["gap"].label_ids == ["l1", None, None]
    assert rows["gap"].dlp_labels == ["PII"]


def test_duplicate_groups_keeper_and_reclaimable_bytes(spark):
    sha, other = "a" * 64, "b" * 64
    rows = [
        _row(file_id="copy", path="/x/long/copy.doc", size=100, content_sha256=sha, created_at=T0.replace(year=2024)),
        _row(file_id="orig", path="/x/orig.doc", size=100, content_sha256=sha, created_at=T0.replace(year=2020)),
        _row(file_id="third", path="/y/orig.doc", size=100, content_sha256=sha, created_at=None),
        _row(file_id="alone", path="/z", size=5, content_sha256=other),
        _row(file_id="e1", path="/e1", size=0, content_sha256="c" * 64),
        _row(file_id="e2", path="/e2", size=0, content_sha256="c" * 64),
        _row(file_id="nohash1", path="/n1", size=7),
        _row(file_id="nohash2", path="/n2", size=7),
    ]
    groups = dxr.duplicate_files(dxr.silver_file_records(_bronze(spark, rows))).collect()
    assert len(groups) == 1
    group = groups[0]
    assert (group.content_sha256, group.copies, group.total_bytes, group.reclaimable_bytes) == (sha, 3, 300, 200)
    assert (group.keeper_file_id, group.keeper_path) == ("orig", "/x/orig.doc")
    assert group.member_paths == sorted(["/x/long/copy.doc", "/x/orig.doc", "/y/orig.doc"])


def test_keeper_ties_break_on_shortest_path(spark):
    sha = "d" * 64
    rows = [
        _row(file_id="b", path="/longer/path.txt", size=10, content_sha256=sha, created_at=T0),
        _row(file_id="a", path="/p.txt", size=10, content_sha256=sha, created_at=T0),
    ]
    group = dxr.duplicate_files(dxr.silver_file_records(_bronze(spark, rows))).collect()[0]
    assert group.keeper_file_id == "a"


def test_rule_history_covers_every_snapshot(spark):
    rows = [
        _row(file_id="f", path="/a", size=1, snapshot_id="20261101T000000Z-0001"),
        _row(file_id="f", path="/a", size=1, snapshot_id="20261102T000000Z-0002", ingestion_date=date(2026, 11, 2)),
    ]
    history = dxr.rule_input_history(_bronze(spark, rows))
    assert sorted(r.snapshot_id for r in history.collect()) == ["20261101T000000Z-0001", "20261102T000000Z-0002"]
