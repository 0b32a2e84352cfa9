"""The report's data read by DuckDB over the committed table files is the data Spark reads: the
crafted tables of test_render, written by Spark, are collected both ways and must be equal."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from file_records.local.tables import open_tables
from file_records.report.data import collect_report_data
from tests.report import test_render

CRAFTED_CATALOGUE = test_render.CRAFTED_CATALOGUE
crafted_db = test_render.crafted_db  # the fixtures, shared
records_db = test_render.records_db

NOW = datetime(2025, 3, 2, 10, 0, tzinfo=timezone.utc)


def as_state(database_dir, root):
    """A state directory whose warehouse holds the tables Spark wrote under ``database_dir``."""
    (root / "metastore" / "metastore_db").mkdir(parents=True)
    for table in database_dir.iterdir():
        if table.is_dir() and not table.name.startswith(("_", ".")) and table.name != root.name:
            shutil.copytree(table, root / "warehouse" / table.name)
    return root


def both_ways(spark, tmp_path, catalogue=None):
    from_spark = collect_report_data(spark, now=NOW, catalogue=catalogue)
    state = as_state(tmp_path, tmp_path / "state")
    with open_tables(state) as con:
        from_duckdb = collect_report_data(con, now=NOW, catalogue=catalogue)
    return from_spark, from_duckdb


@pytest.mark.spark
def test_dxr_tables_read_by_duckdb_as_by_spark(spark, crafted_db, tmp_path):
    from_spark, from_duckdb = both_ways(spark, tmp_path)
    assert from_duckdb["tables"]["silver_file_records"] == 3
    assert from_duckdb["worst_rules"]  # the examples' queries ran on DuckDB too
    assert from_duckdb == from_spark


@pytest.mark.spark
def test_records_tables_read_by_duckdb_as_by_spark(spark, records_db, tmp_path):
    from_spark, from_duckdb = both_ways(spark, tmp_path, CRAFTED_CATALOGUE)
    assert from_duckdb["policies"]["computed"] and from_duckdb["disposition"]
    assert from_duckdb == from_spark


def test_no_tables_on_duckdb(tmp_path):
    (tmp_path / "metastore" / "metastore_db").mkdir(parents=True)
    with open_tables(tmp_path) as con:
        data = collect_report_data(con, now=NOW)
    assert data["tables"] == {} and data["freshness"] == [] and data["rules"] == [] and data["headline"] == {}
