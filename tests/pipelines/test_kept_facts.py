"""Per-run facts computed once and kept (pipelines/kept_facts.py): folding the kept facts gives the
table a recompute over every run gives, a later computation of a run replaces the earlier one, and
the runtime decides the mode in one place."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from file_records.expectations import engine
from file_records.expectations.rules import load_rules
from file_records.pipelines import kept_facts
from file_records.pipelines.logic import dxr, policy_history
from file_records.policies.evaluate import policy_flags
from file_records.policies.model import load_catalogue
from file_records.policies.summary import RUN_FIGURES_COLUMNS, summary_from_figures
from file_records.policies.unified import unified_files
from tests.pipelines.test_policy_history import D1, D2, D3, bronzes  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.spark
STAMP = dt.datetime(2026, 12, 1, 6, 0)


def _rows(df, order):
    return sorted((tuple(r) for r in df.select(*order).collect()), key=repr)


def _stamped(df, at):
    return df.withColumn(kept_facts.COMPUTED_AT, F.lit(at).cast("timestamp"))


def test_history_mode_is_decided_by_the_runtime(monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    assert kept_facts.history_mode() == kept_facts.KEPT
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    assert kept_facts.history_mode() == kept_facts.RECOMPUTE


def test_metrics_folded_from_per_snapshot_counts_equal_the_recomputed_metrics(bronzes):  # noqa: F811
    dxr_bronze, _ = bronzes
    rules = load_rules("silver_file_records")
    history = dxr.rule_input_history(dxr_bronze)
    recomputed = engine.metrics(history, rules, "silver_file_records")
    # Kept mode: each snapshot's counts computed alone, as when it arrived, then folded.
    snapshots = [r.snapshot_id for r in dxr_bronze.select("snapshot_id").distinct().collect()]
    per_snapshot = None
    for snapshot in snapshots:
        counts = engine.metrics_per_run(history.where(F.col("snapshot_id") == snapshot), rules, "silver_file_records",
                                        "snapshot_id")
        per_snapshot = counts if per_snapshot is None else per_snapshot.union(counts)
    folded = engine.metrics_from_runs(per_snapshot)
    assert tuple(folded.columns) == engine.METRICS_COLUMNS
    assert _rows(folded, engine.METRICS_COLUMNS) == _rows(recomputed, engine.METRICS_COLUMNS)
    # Two snapshots on D2: the day's row sums both, as the recomputed table does.
    d2 = {r.rule: r.passed + r.failed for r in folded.where(F.col("ingestion_date") == D2).collect()}
    assert set(d2.values()) == {5}


def test_a_later_computation_of_a_run_replaces_the_earlier_one(spark, bronzes):  # noqa: F811
    dxr_bronze, _ = bronzes
    rules = load_rules("silver_file_records")
    newest = dxr.file_record_candidates(dxr_bronze)
    first = _stamped(engine.metrics_per_run(newest, rules, "silver_file_records", "snapshot_id"), STAMP)
    # The rules were edited the same day: one rule fewer, recomputed for the same snapshot.
    edited = _stamped(engine.metrics_per_run(newest, rules[1:], "silver_file_records", "snapshot_id"),
                      STAMP + dt.timedelta(hours=1))
    kept = first.union(edited)
    latest = kept_facts.latest_per_run(kept, ("dataset", "run_id"), engine.RUN_METRICS_COLUMNS)
    assert {r.rule for r in latest.collect()} == {rule.name for rule in rules[1:]}
    assert latest.count() == len(rules) - 1


def _flags_on(files_by_run, day, catalogue, dxr_files):
    files = files_by_run.where(F.col("ingestion_date") == day)
    return policy_flags(
        policy_history.latest_run(files), catalogue,
        duplicates_df=dxr.duplicate_files(dxr_files.where(F.col("ingestion_date") == day)),
        detected_on_col=policy_history.RUN_DATE,
    ), files


def test_policy_summary_folded_from_each_runs_figures_equals_the_recomputed_summary(bronzes):  # noqa: F811
    dxr_bronze, ws_bronze = bronzes
    catalogue = load_catalogue()
    dxr_rules, ws_rules = load_rules("silver_file_records"), load_rules("silver_workspace_files")
    recomputed = policy_history.summary_history(
        catalogue, days=90, dxr_bronze=dxr_bronze, dxr_rules=dxr_rules, workspace_bronze=ws_bronze,
        workspace_rules=ws_rules,
    )
    runs = policy_history.run_dates([dxr_bronze, ws_bronze], 90)
    dxr_files = policy_history.dxr_files_by_run(dxr_bronze, runs, dxr_rules)
    ws_files = policy_history.workspace_files_by_run(ws_bronze, runs, ws_rules)
    files_by_run = unified_files(dxr_files, ws_files)
    kept = None
    for day in (D1, D2, D3):  # each run's figures, computed from that run's flags only
        flags, files = _flags_on(files_by_run, day, catalogue, dxr_files)
        figures = policy_history.newest_figures(flags, files, catalogue)
        kept = figures if kept is None else kept.union(figures)
    folded = summary_from_figures(policy_history.within_days(kept.select(*RUN_FIGURES_COLUMNS), 90))
    columns = recomputed.columns
    assert _rows(folded, columns) == _rows(recomputed, columns)
    # Every catalogue policy has a figure for every run (zeros included): the run is on record.
    assert kept.count() == 3 * len([p for p in catalogue.policies if p.enabled])


def test_within_days_keeps_the_runs_of_the_window(spark):
    figures = spark.createDataFrame(
        [("p", "review", "low", day, 1, 1, 1, 0) for day in (D1, D2, D3)],
        "policy string, action string, severity string, detected_on date, files long, bytes long, owners long, "
        "suppressed_files long",
    )
    assert {r.detected_on for r in policy_history.within_days(figures, 2).collect()} == {D2, D3}
