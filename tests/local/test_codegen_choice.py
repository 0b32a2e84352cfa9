"""Compiled or interpreted query code (LocalSparkSettings.codegen) and a quick or full JIT
(LocalSparkSettings.jit): "auto" sizes a run by the previous run's newest snapshots (the candidates
tables' parquet footers), and the choice reaches Spark's configuration. No JVM: the state directories are parquet files written by pyarrow."""

from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from file_records.commands.run import _spark_settings
from file_records.local import runner
from file_records.local.spark import (
    INTERPRETED_QUERIES,
    QUICK_JIT,
    LocalSparkSettings,
    StatePaths,
    jit_options,
    spark_conf,
)


def write_candidates(state: Path, table: str, rows: int) -> None:
    folder = state / "warehouse" / table
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"file_id": [f"f{i}" for i in range(rows)]}), folder / "part-00000-0-c000.snappy.parquet")


def decide(state: Path, codegen: str = "auto") -> tuple[str, str]:
    settings, lines = runner.resolve_by_run_size(StatePaths(state), LocalSparkSettings(codegen=codegen))
    return settings.codegen, lines[0].split(": ", 1)[1]


def decide_jit(state: Path, jit: str = "auto") -> tuple[str, str]:
    settings, lines = runner.resolve_by_run_size(StatePaths(state), LocalSparkSettings(jit=jit))
    return settings.jit, lines[1]


def test_a_first_run_compiles(tmp_path):
    assert decide(tmp_path) == ("on", "no earlier run to size this one by")


def test_a_small_previous_run_interprets_and_a_large_one_compiles(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "SMALL_RUN_ROWS", 100)
    write_candidates(tmp_path, "silver_file_records_candidates", 60)
    write_candidates(tmp_path, "silver_workspace_files_candidates", 39)
    choice, reason = decide(tmp_path)
    assert choice == "off"
    assert "99 rows" in reason
    write_candidates(tmp_path, "silver_workspace_files_candidates", 40)  # both sources count: 100 rows
    assert decide(tmp_path)[0] == "on"


def test_an_explicit_setting_wins_over_the_state(tmp_path):
    write_candidates(tmp_path, "silver_file_records_candidates", 5)
    assert decide(tmp_path, "on")[0] == "on"
    assert decide(tmp_path, "off")[0] == "off"


def test_only_interpreted_runs_change_spark_configuration(tmp_path):
    paths = StatePaths(tmp_path)
    interpreted = spark_conf(paths, LocalSparkSettings(codegen="off"))
    assert {key: interpreted[key] for key in INTERPRETED_QUERIES} == INTERPRETED_QUERIES
    for codegen in ("on", "auto"):
        assert not set(INTERPRETED_QUERIES) & set(spark_conf(paths, LocalSparkSettings(codegen=codegen)))


@pytest.mark.parametrize(("setting", "demo", "env", "expected"), [
    ("codegen", True, None, "off"), ("codegen", False, None, "auto"), ("codegen", True, "on", "on"),
    ("jit", True, None, "quick"), ("jit", False, None, "auto"), ("jit", True, "full", "full"),
])
def test_the_demo_takes_the_small_run_settings_unless_told_otherwise(monkeypatch, setting, demo, env, expected):
    """The demo interprets its queries and compiles Spark's code with C1 only; a variable set wins."""
    variable = f"FILE_RECORDS_{setting.upper()}"
    monkeypatch.delenv(variable, raising=False)
    if env is not None:
        monkeypatch.setenv(variable, env)
    assert getattr(_spark_settings(argparse.Namespace(demo=demo)), setting) == expected


def test_a_bad_value_names_the_variable(monkeypatch):
    from file_records.errors import ConfigError
    from file_records.settings import load

    monkeypatch.setenv("FILE_RECORDS_CODEGEN", "fast")
    with pytest.raises(ConfigError, match="FILE_RECORDS_CODEGEN"):
        load(LocalSparkSettings)


def test_the_jit_is_quick_only_after_a_small_run(tmp_path, monkeypatch):
    assert decide_jit(tmp_path) == ("full", "JIT full (C1 and C2): no earlier run to size this one by")
    monkeypatch.setattr(runner, "LARGE_RUN_ROWS", 100)
    write_candidates(tmp_path, "silver_file_records_candidates", 99)
    choice, line = decide_jit(tmp_path)
    assert choice == "quick" and "99 rows (< 100)" in line
    write_candidates(tmp_path, "silver_workspace_files_candidates", 1)
    choice, line = decide_jit(tmp_path)
    assert choice == "full" and "100 rows (>= 100)" in line
    assert decide_jit(tmp_path, "quick")[0] == "quick"
    assert decide_jit(tmp_path / "empty", "full") == ("full", "JIT full (C1 and C2): jit set to 'full'")


def test_only_a_full_jit_compiles_with_c2_and_it_compiles_less(tmp_path):
    paths = StatePaths(tmp_path)
    for jit in ("quick", "auto"):
        options = spark_conf(paths, LocalSparkSettings(jit=jit), jit_options(LocalSparkSettings(jit=jit)))
        assert all(flag in options["spark.driver.extraJavaOptions"] for flag in QUICK_JIT)
    full = spark_conf(paths, LocalSparkSettings(jit="full"), jit_options(LocalSparkSettings(jit="full")))
    assert "TieredStopAtLevel" not in full["spark.driver.extraJavaOptions"]
    assert "-XX:CompileThresholdScaling=10" in full["spark.driver.extraJavaOptions"].split()
    assert LocalSparkSettings.from_env({"FILE_RECORDS_JIT": "full"}, {}).jit == "full"
