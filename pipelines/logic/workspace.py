"""Workspace inventory transformations: plain DataFrame -> DataFrame functions."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from file_records.connectors.workspace.source import RECORD_TYPE_OBJECT, RECORD_TYPE_STATUS
from file_records.datasets import SILVER_WORKSPACE_FILES
from file_records.frames import add_columns, replace_columns
from file_records.pipelines.logic.runs import newest_run

GIB = 1024**3

SILVER_COLUMNS = list(SILVER_WORKSPACE_FILES.columns)  # declared in file_records/datasets.py
STATUS_COLUMNS = [
    "username", "active", "source", "status", "files", "bytes", "estimated_bytes", "requests", "retries",
    "duration_seconds", "error", "depth_capped", "home_missing", "scan_id", "ingestion_date", "ingested_at",
]
#: Columns of gold_user_inventory (user_inventory), in order.
INVENTORY_COLUMNS = [
    "username", "file_count", "total_size", "total_size_gb", "status", "file_source", "error", "active",
    "workspace_files", "workspace_bytes", "dbfs_files", "dbfs_bytes", "estimated_bytes", "last_modified_at",
    "requests", "retries", "depth_capped", "scan_time", "scan_id", "ingestion_date",
]
# The predecessor's CSV columns, in its order: consumers of that CSV read these first.
PREDECESSOR_COLUMNS = ["username", "file_count", "total_size", "total_size_gb", "status", "file_source", "error"]


def latest_scan(bronze: DataFrame) -> DataFrame:
    """Every row of the newest scan (a scan lands whole or not at all, so it is complete)."""
    return newest_run(bronze, "scan_id")


def workspace_file_candidates(bronze: DataFrame) -> DataFrame:
    """Object rows of the newest scan, one per (source, path), before the data-quality rules."""
    return file_history(latest_scan(bronze))


def file_history(bronze: DataFrame) -> DataFrame:
    """Object rows of every scan in bronze, one per (scan, source, path): silver's candidates, all days."""
    objects = bronze.where(F.col("record_type") == RECORD_TYPE_OBJECT)
    one_per_path = Window.partitionBy("scan_id", "ingestion_date", "source", "path").orderBy(F.col("modified_at").desc_nulls_last())
    return (
        add_columns(objects, active=F.col("user_active"), _copy=F.row_number().over(one_per_path))
        .where(F.col("_copy") == 1)
        .select(*SILVER_COLUMNS)
    )


def rule_input_history(bronze: DataFrame) -> DataFrame:
    """What the silver rules see, for every scan in bronze (history for the metrics)."""
    return add_columns(bronze.where(F.col("record_type") == RECORD_TYPE_OBJECT), active=F.col("user_active")).select(
        *SILVER_COLUMNS
    )


def scan_status(bronze: DataFrame) -> DataFrame:
    """One row per user, source and scan: how the listing went.

    ``home_missing``: the user has no home folder in that source (normal: a DBFS home exists only
    for users who wrote there); such a source is ``empty``, never an error. Scans written before
    the column existed read as ``false``.
    """
    statuses = add_columns(bronze.where(F.col("record_type") == RECORD_TYPE_STATUS), active=F.col("user_active"))
    return replace_columns(statuses, home_missing=F.coalesce(F.col("home_missing"), F.lit(False))).select(*STATUS_COLUMNS)


def _per_source(source: str, column: str) -> F.Column:
    return F.sum(F.when(F.col("source") == source, F.col(column)).otherwise(F.lit(0))).cast("bigint")


def user_inventory(status: DataFrame, objects: DataFrame) -> DataFrame:
    """One row per user per scan, totals right where the predecessor was wrong.

    status: `error` when every listed source failed for good, `partial` when one failed or was
    only partly listed, else `success` (files found) or `empty`. A missing home folder is not a
    failure: its source is `empty` (no Workspace home plus DBFS files is `success`; an empty
    Workspace home plus no DBFS home is `empty`). file_source: which of DBFS and
    Workspace hold files. total_size_gb is GiB rounded to 2 decimals. Notebook sizes are
    estimates (estimated_bytes says how much of total_size is estimated).
    """
    sources_failed = F.sum(F.when(F.col("status") == "error", 1).otherwise(0))
    sources_partial = F.sum(F.when(F.col("status") == "partial", 1).otherwise(0))
    totals = status.groupBy("scan_id", "username").agg(
        F.max("active").alias("active"),
        F.sum("files").cast("bigint").alias("file_count"),
        F.sum("bytes").cast("bigint").alias("total_size"),
        F.sum("estimated_bytes").cast("bigint").alias("estimated_bytes"),
        _per_source("workspace", "files").alias("workspace_files"),
        _per_source("workspace", "bytes").alias("workspace_bytes"),
        _per_source("dbfs", "files").alias("dbfs_files"),
        _per_source("dbfs", "bytes").alias("dbfs_bytes"),
        F.count(F.lit(1)).alias("_sources"),
        sources_failed.alias("_failed"),
        sources_partial.alias("_partial"),
        F.concat_ws(
            "; ",
            F.sort_array(F.collect_list(F.when(F.col("error").isNotNull(), F.concat_ws(": ", "source", "error")))),
        ).alias("_errors"),
        F.sum("requests").cast("bigint").alias("requests"),
        F.sum("retries").cast("bigint").alias("retries"),
        F.max(F.col("depth_capped").cast("int")).cast("boolean").alias("depth_capped"),
        F.max("ingested_at").alias("scan_time"),
        F.max("ingestion_date").alias("ingestion_date"),
    )
    last_modified = objects.groupBy("scan_id", "username").agg(F.max("modified_at").alias("last_modified_at"))
    user_status = (
        F.when(F.col("_failed") == F.col("_sources"), "error")
        .when((F.col("_failed") > 0) | (F.col("_partial") > 0), "partial")
        .when(F.col("file_count") > 0, "success")
        .otherwise("empty")
    )
    file_source = (
        F.when((F.col("dbfs_files") > 0) & (F.col("workspace_files") > 0), "both")
        .when(F.col("dbfs_files") > 0, "dbfs")
        .when(F.col("workspace_files") > 0, "workspace")
        .otherwise("none")
    )
    return (
        totals.join(last_modified, ["scan_id", "username"], "left")
        .select(
            "username",
            "file_count",
            "total_size",
            F.round(F.col("total_size") / F.lit(GIB), 2).alias("total_size_gb"),
            user_status.alias("status"),
            file_source.alias("file_source"),
            F.when(F.col("_errors") != "", F.col("_errors")).alias("error"),
            "active",
            "workspace_files",
            "workspace_bytes",
            "dbfs_files",
            "dbfs_bytes",
            "estimated_bytes",
            "last_modified_at",
            "requests",
            "retries",
            "depth_capped",
            "scan_time",
            "scan_id",
            "ingestion_date",
        )
    )
