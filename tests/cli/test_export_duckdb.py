"""`export` reads the tables without Spark (DuckDB over the committed files of a small state built
with pyarrow): filters, the plan columns, the inventory's latest scan, review sheets and errors; and
the same bytes as the Spark DataFrame path of policies/export.py on the same files (marked spark)."""

from __future__ import annotations

import argparse

import orjson
import pytest
from rich.console import Console

from file_records.commands import export as export_cmd
from file_records.errors import UsageError
from file_records.policies.export import read_csv_rows
from tests.local.test_tables import make_state


@pytest.fixture
def state(tmp_path):
    return make_state(tmp_path / "state")


@pytest.fixture
def no_spark(monkeypatch):
    import file_records.local.runner as runner

    def refuse(*args, **kwargs):
        raise AssertionError("Spark must not start")

    monkeypatch.setattr(runner, "reading_session", refuse)


def export(state, out, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    export_cmd.add_arguments(parser)
    args = parser.parse_args([*argv, "--state-dir", str(state), "--out", str(out)])
    return export_cmd.run(args, Console(stderr=True))


def test_flags_with_plan_columns_and_filters(state, tmp_path, no_spark):
    out = tmp_path / "flags.csv"
    assert export(state, out, "gold_policy_flags", "--policy", "Duplicate,stale", "--owner", "ALICE@example.com") == 0
    header, rows = read_csv_rows(out)
    assert header[-3:] == ["content_sha256", "datasource_name", "file_name"]
    assert [(r["file_id"], r["policy"]) for r in rows] == [("f1", "duplicate"), ("f3", "stale")]
    assert rows[0]["content_sha256"] == "a" * 64 and rows[1]["content_sha256"] == ""
    assert export(state, out, "gold_policy_flags", "--action", "archive") == 0
    rows = read_csv_rows(out)[1]
    assert [r["file_id"] for r in rows] == ["f1", "f2"]  # policy, then path (byte order: "/" before "=")
    assert "'=HYPERLINK" in out.read_text()


def test_review_sheet_json(state, tmp_path, no_spark):
    out = tmp_path / "review.json"
    assert export(state, out, "gold_policy_flags", "--for-review", "--format", "json", "--no-plan-columns") == 0
    rows = orjson.loads(out.read_bytes())
    assert len(rows) == 4 and list(rows[0])[:4] == ["decision", "reviewer", "comment", "source_system"]
    assert rows[0]["detected_on"] == "2026-03-01" and "content_sha256" not in rows[0]


def test_inventory_latest_scan_predecessor_columns_first(state, tmp_path, no_spark):
    out = tmp_path / "inventory.csv"
    assert export(state, out, "gold_user_inventory") == 0
    header, rows = read_csv_rows(out)
    assert header[:7] == ["username", "file_count", "total_size", "total_size_gb", "status", "file_source", "error"]
    assert [r["username"] for r in rows] == ["", "adam@example.com", "zoe@example.com"]  # nulls first, as Spark
    assert {r["scan_id"] for r in rows} == {"20260301T100000Z"}
    assert rows[1]["scan_time"] == "2026-03-01T10:00:05"
    assert export(state, out, "default.gold_user_inventory", "--all-scans") == 0
    assert len(read_csv_rows(out)[1]) == 4


def test_errors_are_one_line_usage_errors(state, tmp_path, no_spark):
    with pytest.raises(UsageError, match="no table 'nope' in .*; it has: bronze_dxr_files, gold_policy_flags"):
        export(state, tmp_path / "x.csv", "nope")
    with pytest.raises(UsageError, match="policy"):  # a filter on a table without that column
        export(state, tmp_path / "x.csv", "silver_all_files", "--policy", "duplicate")
    with pytest.raises(UsageError, match="no pipeline state"):
        export(tmp_path / "none", tmp_path / "x.csv", "gold_policy_flags")
    assert not (tmp_path / "x.csv").exists()


def test_bronze_export_reads_committed_files_only(state, tmp_path, no_spark):
    out = tmp_path / "bronze.json"
    assert export(state, out, "bronze_dxr_files", "--format", "json") == 0
    assert sorted(r["file_id"] for r in orjson.loads(out.read_bytes())) == ["b1", "b2", "b3"]


@pytest.mark.spark
@pytest.mark.parametrize("argv", [
    ("gold_policy_flags", "--format", "csv"),
    ("gold_policy_flags", "--format", "json", "--for-review", "--owner", "alice@EXAMPLE.com"),
    ("silver_all_files", "--format", "json"),
])
def test_same_bytes_as_the_spark_path(spark, state, tmp_path, argv):
    from file_records.local.tables import committed_files
    from file_records.policies.export import export_table

    def read_table(name):
        return spark.read.parquet(*[str(p) for p in committed_files(state, name)])

    ours, theirs = tmp_path / "duckdb.out", tmp_path / "spark.out"
    assert export(state, ours, *argv) == 0
    owner = [argv[argv.index("--owner") + 1]] if "--owner" in argv else None
    export_table(read_table, argv[0], theirs, argv[argv.index("--format") + 1], owner=owner,
                 for_review="--for-review" in argv)
    assert ours.read_bytes() == theirs.read_bytes()
