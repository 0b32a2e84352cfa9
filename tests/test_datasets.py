"""The dataset registry (file_records.datasets) agrees with the rules files, the connectors and what the
pipeline logic produces; small DataFrames, no pipeline run."""

from __future__ import annotations

import ast
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from file_records import datasets
from file_records.datasets import DATASETS, SILVER_FILE_RECORDS, SILVER_WORKSPACE_FILES, SOURCES
from file_records.errors import ConfigError
from file_records.expectations.rules import KNOWN_DATASETS, RULES_DIR, load_all

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
DAY = date(2026, 11, 1)


# ---------------------------------------------------------------- the registry itself (no Spark)


def test_every_rules_file_is_a_registered_dataset_and_back():
    assert set(load_all()) == set(DATASETS) == set(KNOWN_DATASETS)
    assert {p.stem for p in RULES_DIR.glob("*.yml")} == set(DATASETS)


def test_sources_and_datasets_point_at_each_other():
    assert {s.silver for s in SOURCES.values()} == set(DATASETS)
    for name, spec in DATASETS.items():
        assert spec.name == name
        assert SOURCES[spec.source].silver == name
        assert spec.quarantine == f"{name}_quarantine"  # the pipeline's naming (pipelines/guarded.py)
        assert spec.key and set(spec.key) <= set(spec.columns)
        assert set(spec.not_in_silver) <= set(spec.candidate_columns)
        assert len(set(spec.candidate_columns)) == len(spec.candidate_columns)
        assert spec.quarantine_columns[-2:] == ("failed_rules", "quarantined_at")
    tables = [s.bronze for s in SOURCES.values()] + list(DATASETS) + [d.quarantine for d in DATASETS.values()]
    assert len(set(tables)) == len(tables)


def test_lookup_helpers():
    assert datasets.dataset("silver_file_records") is SILVER_FILE_RECORDS
    assert datasets.key_columns("silver_workspace_files") == ("source", "path")
    assert datasets.key_columns("silver_nope") == ()
    with pytest.raises(ConfigError, match="unknown dataset 'silver_nope'; known datasets: silver_file"):
        datasets.dataset("silver_nope")
    assert SILVER_WORKSPACE_FILES.title == "Workspace files (silver_workspace_files)"


def test_registry_is_a_foundation_module():
    """It may import file_records.errors and the standard library, nothing else of the project."""
    tree = ast.parse(Path(datasets.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    project = {name for name in imported if name.split(".")[0] in ("file_records", "pyspark", "pipelines")}
    assert project <= {"file_records.errors"}


def test_source_facts_match_the_connectors():
    from file_records.connectors.dxr.schema import DXR_SPARK_SCHEMA, RECORD_TYPE_FILE
    from file_records.connectors.workspace.source import RECORD_TYPE_OBJECT, WORKSPACE_SPARK_SCHEMA

    assert SOURCES["dxr"].item_record_type == RECORD_TYPE_FILE
    assert SOURCES["workspace"].item_record_type == RECORD_TYPE_OBJECT
    assert SOURCES["dxr"].run_column in DXR_SPARK_SCHEMA.fieldNames()
    assert SOURCES["workspace"].run_column in WORKSPACE_SPARK_SCHEMA.fieldNames()


# ---------------------------------------------------------------- what the pipeline logic produces


def _dxr_bronze(spark, rows):
    from file_records.connectors.dxr.schema import COLUMN_NAMES, DXR_SPARK_SCHEMA

    def row(**values):
        base = {name: None for name in COLUMN_NAMES}
        base.update(
            record_type="file", source_query="q1", snapshot_id="s2", ingestion_date=DAY, ingested_at=T0,
            datasource_id="ds", datasource_name="DS", labels=[], size=1,
        )
        base.update(values)
        return tuple(base[name] for name in COLUMN_NAMES)

    return spark.createDataFrame([row(**r) for r in rows], DXR_SPARK_SCHEMA)


def _workspace_bronze(spark, rows):
    from file_records.connectors.workspace.source import WORKSPACE_SPARK_SCHEMA

    names = WORKSPACE_SPARK_SCHEMA.fieldNames()

    def row(**values):
        base = {name: None for name in names}
        base.update(record_type="object", username="alice@example.com", user_active=True, object_type="FILE",
                    size=1, size_is_exact=True, size_estimated=False, modified_at=T0, scan_id="scan-2",
                    ingestion_date=DAY, ingested_at=T0)
        base.update(values)
        return tuple(base[name] for name in names)

    return spark.createDataFrame([row(**r) for r in rows], WORKSPACE_SPARK_SCHEMA)


def _assert_unique(frame, key):
    rows = [tuple(getattr(r, c) for c in key) for r in frame.select(*key).collect()]
    assert len(rows) == len(set(rows)), rows


@pytest.mark.spark
def test_silver_file_records_matches_the_dxr_logic(spark):
    from file_records.expectations import engine
    from file_records.expectations.rules import load_rules
    from file_records.pipelines.logic import dxr

    bronze = _dxr_bronze(spark, [
        {"file_id": "a", "path": "/x/a.pdf", "source_query": "q1"},
        {"file_id": "a", "path": "/x/a.pdf", "source_query": "q2"},  # the same file from an overlapping query
        {"file_id": "b", "path": "/x/a.pdf"},  # another file at the same path: path is not the key
        {"file_id": "old", "path": "/x/old.pdf", "snapshot_id": "s1"},  # an older snapshot
    ])
    candidates = dxr.file_record_candidates(bronze)
    spec = SILVER_FILE_RECORDS
    assert tuple(candidates.columns) == spec.candidate_columns == tuple(dxr.CANDIDATE_COLUMNS)
    assert tuple(dxr.SILVER_COLUMNS) == spec.columns
    assert tuple(dxr.silver_file_records(bronze).columns) == spec.columns
    rules = load_rules(spec.name)
    # every rule must resolve on the candidate columns
    silver = engine.apply_rules(candidates, rules).select(*spec.columns)
    _assert_unique(silver, spec.key)
    assert sorted(r.file_id for r in silver.collect()) == ["a", "b"]
    quarantine = engine.quarantine(candidates, rules)
    assert tuple(quarantine.columns) == spec.quarantine_columns


@pytest.mark.spark
def test_silver_workspace_files_matches_the_workspace_logic(spark):
    from file_records.expectations import engine
    from file_records.expectations.rules import load_rules
    from file_records.pipelines.logic import workspace

    home = "/Users/alice@example.com"
    bronze = _workspace_bronze(spark, [
        {"source": "workspace", "path": f"{home}/data.csv", "object_id": 11},
        {"source": "dbfs", "path": f"{home}/data.csv"},  # same path in DBFS: no object id
        {"source": "dbfs", "path": f"{home}/data.csv", "modified_at": T0.replace(year=2025)},  # listed twice
        {"source": "dbfs", "path": f"{home}/other.csv"},
        {"source": "workspace", "path": f"{home}/old.py", "scan_id": "scan-1"},  # an older scan
        {"record_type": "status", "source": "dbfs", "status": "success", "files": 2},
    ])
    candidates = workspace.workspace_file_candidates(bronze)
    spec = SILVER_WORKSPACE_FILES
    assert tuple(candidates.columns) == spec.candidate_columns == tuple(workspace.SILVER_COLUMNS)
    assert spec.columns == spec.candidate_columns  # the workspace silver keeps every candidate column
    rules = load_rules(spec.name)
    silver = engine.apply_rules(candidates, rules).select(*spec.columns)
    rows = silver.collect()
    assert sorted((r.source, r.path) for r in rows) == [
        ("dbfs", f"{home}/data.csv"), ("dbfs", f"{home}/other.csv"), ("workspace", f"{home}/data.csv"),
    ]
    _assert_unique(silver, spec.key)
    # why neither path nor object_id alone can be the key
    assert len({r.path for r in rows}) < len(rows)
    assert any(r.object_id is None for r in rows)
    assert tuple(engine.quarantine(candidates, rules).columns) == spec.quarantine_columns


def test_working_tables_are_the_candidates_and_kept_facts_not_the_published_tables():
    from file_records import datasets

    working = datasets.working_tables()
    assert {"silver_file_records_candidates", "silver_workspace_files_candidates", "gold_expectation_metrics_newest",
            "gold_expectation_metrics_kept", "silver_file_history_dxr_newest", "silver_file_history_workspace_kept",
            "gold_user_inventory_kept"} <= working
    assert not working & {"silver_file_records", "gold_expectation_metrics", "silver_file_history",
                          "gold_policy_summary", "gold_user_inventory", "bronze_dxr_files"}
    assert set(datasets.kept_facts_tables()) <= working
