"""``gold_policy_summary``: per policy and run, the files, bytes and owners the policy caught
(counted from ``gold_policy_flags``), and the change since the policy's previous run.

Lazy DataFrame-in/DataFrame-out, pipeline-safe as :mod:`file_records.policies.evaluate` explains.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from file_records.frames import distinct_rows
from file_records.policies.model import Catalogue, Policy, enabled_policies

__all__ = ["RUN_FIGURES_COLUMNS", "SUMMARY_COLUMNS", "policy_summary", "run_figures", "summary_from_figures"]

SUMMARY_COLUMNS: tuple[str, ...] = (
    "policy", "action", "severity", "detected_on", "files", "bytes", "owners", "suppressed_files",
    "previous_detected_on", "files_change", "bytes_change",
)

#: Columns of :func:`run_figures`: what one run contributes to ``gold_policy_summary``.
RUN_FIGURES_COLUMNS: tuple[str, ...] = (
    "policy", "action", "severity", "detected_on", "files", "bytes", "owners", "suppressed_files",
)


def run_figures(flags_df: DataFrame, runs_df: Optional[DataFrame] = None,
                policies: Union[Catalogue, Iterable[Policy], None] = None) -> DataFrame:
    """Per policy and run (``detected_on``): files, bytes, owners and suppressed files caught, in
    :data:`RUN_FIGURES_COLUMNS`.

    With ``runs_df`` (``run_date`` rows) and ``policies``, every policy of the catalogue gets a row
    for every run, with zeros where it caught nothing: the figures then record that the run
    happened, which :func:`summary_from_figures` needs to show a drop to zero.
    """
    per_run = flags_df.groupBy("policy", "detected_on").agg(
        F.max("action").alias("action"),
        F.max("severity").alias("severity"),
        F.count_distinct(F.col("source_system"), F.col("file_id")).alias("files"),
        F.sum(F.coalesce(F.col("size"), F.lit(0)).cast("bigint")).alias("bytes"),
        F.count_distinct(F.lower(F.col("owner"))).alias("owners"),
        F.count_distinct(
            F.when(F.col("suppressed_by").isNotNull(), F.col("source_system")),
            F.when(F.col("suppressed_by").isNotNull(), F.col("file_id")),
        ).alias("suppressed_files"),
    )
    counts = ("files", "bytes", "owners", "suppressed_files")
    if runs_df is None or policies is None:
        return per_run.select(
            "policy", "action", "severity", "detected_on", *[F.col(c).cast("bigint").alias(c) for c in counts]
        )
    catalogue = flags_df.sparkSession.createDataFrame(
        [(p.name, p.action, p.severity) for p in enabled_policies(policies)],
        T.StructType([T.StructField(name, T.StringType()) for name in ("policy", "action", "severity")]),
    )
    grid = catalogue.crossJoin(distinct_rows(runs_df.select(F.to_date(F.col("run_date")).alias("detected_on")), "detected_on"))
    return grid.join(per_run.select("policy", "detected_on", *counts), ["policy", "detected_on"], "left").select(
        "policy", "action", "severity", "detected_on",
        *[F.coalesce(F.col(c), F.lit(0)).cast("bigint").alias(c) for c in counts],
    )


def summary_from_figures(figures: DataFrame, runs_df: Optional[DataFrame] = None) -> DataFrame:
    """``gold_policy_summary`` from per-run figures (:func:`run_figures`): per policy and run, with
    the change since the previous run of the same policy (null on its first run).

    Runs are the ``run_date`` rows of ``runs_df`` when given, else the distinct ``detected_on`` of
    the figures; from a policy's first run with files on, a run where it caught nothing shows
    ``files = 0`` (so the drop is visible) rather than being skipped. Action and severity are the
    newest run's.
    """
    caught = F.col("files") > 0
    per_policy = figures.groupBy("policy").agg(
        F.min(F.when(caught, F.col("detected_on"))).alias("_first"),
        F.max_by("action", "detected_on").alias("action"),
        F.max_by("severity", "detected_on").alias("severity"),
    )
    runs = distinct_rows(
        runs_df.select(F.to_date(F.col("run_date")).alias("_run"))
        if runs_df is not None
        else figures.select(F.col("detected_on").alias("_run")),
        "_run",
    )
    grid = per_policy.join(runs, F.col("_run") >= F.col("_first"), "inner").select(
        "policy", "action", "severity", F.col("_run").alias("detected_on")
    )
    counts = ("files", "bytes", "owners", "suppressed_files")
    summary = grid.join(figures.select("policy", "detected_on", *counts), ["policy", "detected_on"], "left").select(
        "policy", "action", "severity", "detected_on",
        *[F.coalesce(F.col(c), F.lit(0)).cast("bigint").alias(c) for c in counts],
    )
    w = Window.partitionBy("policy").orderBy("detected_on")
    return summary.select(
        "*",
        F.lag("detected_on").over(w).alias("previous_detected_on"),
        (F.col("files") - F.lag("files").over(w)).alias("files_change"),
        (F.col("bytes") - F.lag("bytes").over(w)).alias("bytes_change"),
    ).select(*SUMMARY_COLUMNS)


def policy_summary(flags_df: DataFrame, runs_df: Optional[DataFrame] = None) -> DataFrame:
    """Per policy and ``detected_on``: files, bytes, owners, suppressed files and change since the
    previous run of the same policy (null on its first run): :func:`summary_from_figures` of the
    flags' :func:`run_figures`.

    Runs are the ``run_date`` rows of ``runs_df`` when given (so a run that flagged nothing still
    counts), else the distinct ``detected_on`` dates present in ``flags_df``; from a policy's first
    appearance on, a run where it caught nothing shows ``files = 0`` (so the drop is visible) rather
    than being skipped.
    """
    return summary_from_figures(run_figures(flags_df), runs_df)
