"""Policy flags as they stood on each run date: the history behind ``gold_policy_summary``.

``gold_policy_flags`` is the current picture (the newest snapshot of every source). The summary's
"change since the previous run" needs the same evaluation for earlier runs, which only bronze still
has: bronze keeps every snapshot, so each past run is rebuilt from it exactly as silver was then.

A *run date* is a date on which any source took a snapshot. For each run date and source, the
files are that source's newest snapshot taken on or before the date (a source that skipped a day
still counts with its last snapshot rather than dropping to zero), kept by the same data-quality
rules as its silver table, and dated to the run (``ingestion_date`` = run date). So the newest run
of the history is, row for row, what ``gold_policy_flags`` evaluates.

History is bounded by ``days`` (``file_records.policies.history_days``): every run builds the
policies over at most that many days of snapshots, so its cost grows with files x days, not with
the age of the pipeline.

Everything here is lazy and pipeline-safe (see policies/evaluate.py): no schema inspection, no
``drop()``, columns referenced by name.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from file_records.expectations import engine
from file_records.expectations.rules import Rule
from file_records.frames import distinct_rows, replace_columns
from file_records.pipelines.logic import dxr, workspace
from file_records.policies.evaluate import policy_flags
from file_records.policies.model import Catalogue, Policy
from file_records.policies.summary import RUN_FIGURES_COLUMNS, run_figures, summary_from_figures
from file_records.policies.unified import unified_files

RUN_DATE = "run_date"


def run_dates(bronzes: Sequence[DataFrame], days: int) -> DataFrame:
    """One row per run date (column ``run_date``): the distinct ingestion dates of the given bronze
    tables within the ``days`` days ending on the newest one."""
    if days < 1:
        raise ValueError(f"history days must be at least 1, got {days}")
    dates = bronzes[0].select(F.col("ingestion_date").alias(RUN_DATE))
    for bronze in bronzes[1:]:
        dates = dates.union(bronze.select(F.col("ingestion_date").alias(RUN_DATE)))
    dates = distinct_rows(dates.where(F.col(RUN_DATE).isNotNull()), RUN_DATE)
    newest = dates.agg(F.max(RUN_DATE).alias("_newest_run"))
    return (
        dates.crossJoin(newest)
        .where(F.col(RUN_DATE) > F.date_sub(F.col("_newest_run"), days))
        .select(RUN_DATE)
    )


def as_of_runs(bronze: DataFrame, runs: DataFrame, snapshot_col: str) -> DataFrame:
    """For each run date, every bronze row of the newest snapshot taken on or before it, with
    ``ingestion_date`` replaced by the run date (extra columns: ``run_date``, ``_picked_snapshot``).

    Snapshot ids sort in the order they were taken (the silver tables rely on that too)."""
    snapshots = bronze.groupBy(snapshot_col).agg(F.max("ingestion_date").alias("_snapshot_date"))
    picked = (
        runs.join(snapshots, F.col("_snapshot_date") <= F.col(RUN_DATE), "inner")
        .groupBy(RUN_DATE)
        .agg(F.max(snapshot_col).alias("_picked_snapshot"))
    )
    # A few rows (one per run date): broadcast, so bronze is not shuffled for the join.
    return replace_columns(
        bronze.join(F.broadcast(picked), F.col(snapshot_col) == F.col("_picked_snapshot"), "inner"),
        ingestion_date=F.col(RUN_DATE),
    )


def dxr_files_by_run(bronze: DataFrame, runs: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """``silver_file_records`` as it was on each run date (columns of silver)."""
    candidates = dxr.file_history(as_of_runs(bronze, runs, "snapshot_id"))
    return engine.passing(candidates, rules).select(*dxr.SILVER_COLUMNS)


def workspace_files_by_run(bronze: DataFrame, runs: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """``silver_workspace_files`` as it was on each run date (columns of silver)."""
    candidates = workspace.file_history(as_of_runs(bronze, runs, "scan_id"))
    return engine.passing(candidates, rules).select(*workspace.SILVER_COLUMNS)


def latest_run(files: DataFrame) -> DataFrame:
    """``files`` (``silver_all_files``) plus ``run_date``: the newest ingestion date of any source,
    the date the current flags are detected on (the newest run of the history)."""
    return files.crossJoin(_newest_run_date(files))


def figures_history(
    catalogue: Union[Catalogue, Sequence[Policy]],
    *,
    days: int,
    dxr_bronze: Optional[DataFrame] = None,
    dxr_rules: Sequence[Rule] = (),
    workspace_bronze: Optional[DataFrame] = None,
    workspace_rules: Sequence[Rule] = (),
    users_df: Optional[DataFrame] = None,
    holds_df: Optional[DataFrame] = None,
) -> tuple[DataFrame, DataFrame]:
    """Per-run policy figures (:func:`file_records.policies.summary.run_figures`) of every run date in
    the last ``days`` days, each evaluated as ``gold_policy_flags`` was (duplicates per run; the
    current users and hold list), rebuilt from bronze; and the run dates."""
    bronzes = [b for b in (dxr_bronze, workspace_bronze) if b is not None]
    if not bronzes:
        raise ValueError("summary_history needs at least one source")
    runs = run_dates(bronzes, days)
    dxr_files = dxr_files_by_run(dxr_bronze, runs, dxr_rules) if dxr_bronze is not None else None
    workspace_files = (
        workspace_files_by_run(workspace_bronze, runs, workspace_rules) if workspace_bronze is not None else None
    )
    flags = policy_flags(
        unified_files(dxr_files, workspace_files),
        catalogue,
        duplicates_df=dxr.duplicate_files(dxr_files, per=("ingestion_date",)) if dxr_files is not None else None,
        users_df=users_df,
        holds_df=holds_df,
        per_run=True,
    )
    return run_figures(flags, runs, catalogue), runs


def summary_history(catalogue: Union[Catalogue, Sequence[Policy]], *, days: int, **inputs) -> DataFrame:
    """``gold_policy_summary`` recomputed from bronze: :func:`summary_from_figures` of
    :func:`figures_history` (same arguments)."""
    figures, runs = figures_history(catalogue, days=days, **inputs)
    return summary_from_figures(figures, runs)


def newest_figures(flags: DataFrame, files: DataFrame, catalogue: Union[Catalogue, Sequence[Policy]]) -> DataFrame:
    """The newest run's policy figures: every catalogue policy on the newest run date of ``files``
    (``silver_all_files``), from ``flags`` (``gold_policy_flags``, detected on that date)."""
    return run_figures(flags, _newest_run_date(files).where(F.col(RUN_DATE).isNotNull()), catalogue)


def _newest_run_date(files: DataFrame) -> DataFrame:
    """One row, ``run_date``: the newest ingestion date of any source in ``files`` (``silver_all_files``)."""
    return files.agg(F.max("ingestion_date").alias(RUN_DATE))


def within_days(figures: DataFrame, days: int) -> DataFrame:
    """The figures of the runs in the ``days`` days ending on the newest one."""
    newest = figures.agg(F.max("detected_on").alias("_newest_run"))
    return figures.crossJoin(newest).where(F.col("detected_on") > F.date_sub(F.col("_newest_run"), days)).select(
        *RUN_FIGURES_COLUMNS
    )
