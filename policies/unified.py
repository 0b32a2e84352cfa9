"""``silver_all_files``: DXR files and Databricks workspace/DBFS files with common columns.

``unified_files(dxr_df, workspace_df)`` is a plain, lazy DataFrame-in/DataFrame-out function; either
input may be ``None`` (source not configured) and the output schema is always :data:`UNIFIED_SCHEMA`.

Column rules
------------
- ``source_system``: ``'dxr'`` or ``'workspace'`` (workspace *and* DBFS objects; ``datasource_name`` says
  which: ``'workspace'`` or ``'dbfs'``). Key: (``source_system``, ``file_id``).
- ``file_id``: DXR ``file_id``; workspace ``'<source>:<path>'`` (e.g. ``'dbfs:/Users/a@x.com/data.csv'``),
  stable across scans because workspace paths are absolute.
- ``owner``: DXR ``owner_email``, else ``owner_name`` (blank strings count as missing); workspace
  ``username``.
- ``labels`` / ``dlp_labels`` / ``annotator_names``: never null (empty arrays for workspace files).
- ``classification``: ``'Records'`` when a label is, case-insensitively and trimmed, one of
  ``records_labels`` (default ``'records'``, ``'record'``); otherwise null. Workspace files: null.
- ``readable_by_everyone``: DXR: true when an entitlement's name (or email/id) is an Everyone-style
  group (:data:`EVERYONE_GROUPS`, case-insensitive), false when the entitlement list has none, null when
  the list is absent. Workspace: true for ``/Shared`` (readable by all workspace users by default) and for
  DBFS root files (DBFS root is readable by every workspace user); otherwise null (the scan has no ACLs).
- Workspace directories and repos are not files and are left out.
"""

from __future__ import annotations

from typing import Iterable, Optional

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

__all__ = ["EVERYONE_GROUPS", "RECORDS_LABELS", "UNIFIED_COLUMNS", "UNIFIED_SCHEMA", "unified_files"]

UNIFIED_SCHEMA = T.StructType(
    [
        T.StructField("source_system", T.StringType(), True),
        T.StructField("file_id", T.StringType(), True),
        T.StructField("path", T.StringType(), True),
        T.StructField("file_name", T.StringType(), True),
        T.StructField("size", T.LongType(), True),
        T.StructField("owner", T.StringType(), True),
        T.StructField("created_at", T.TimestampType(), True),
        T.StructField("last_modified_at", T.TimestampType(), True),
        T.StructField("content_sha256", T.StringType(), True),
        T.StructField("labels", T.ArrayType(T.StringType()), True),
        T.StructField("dlp_labels", T.ArrayType(T.StringType()), True),
        T.StructField("annotator_names", T.ArrayType(T.StringType()), True),
        T.StructField("classification", T.StringType(), True),
        T.StructField("readable_by_everyone", T.BooleanType(), True),
        T.StructField("datasource_name", T.StringType(), True),
        T.StructField("ingestion_date", T.DateType(), True),
    ]
)
UNIFIED_COLUMNS: tuple[str, ...] = tuple(f.name for f in UNIFIED_SCHEMA.fields)

#: Group names (lower case) that mean "everyone" across the DXR connectors (SMB/NTFS, SharePoint /
#: OneDrive, Google, Box, S3/GCS public principals).
EVERYONE_GROUPS: tuple[str, ...] = (
    "everyone",
    "everyone except external users",
    "all users",
    "allusers",
    "authenticated users",
    "allauthenticatedusers",
    "domain users",
    "all company",
    "anyone",
    "anyone with the link",
    "anyonewithlink",
    "public",
    "s-1-1-0",  # Everyone SID
    "s-1-5-11",  # Authenticated Users SID
)
RECORDS_LABELS: tuple[str, ...] = ("records", "record")

_EXCLUDED_OBJECT_TYPES = ("DIRECTORY", "REPO")


def _lit_array(values: Iterable[str]) -> Column:
    values = [v.strip().lower() for v in values]
    return F.array(*[F.lit(v) for v in values]) if values else F.array().cast("array<string>")


def _blank_to_null(c: Column) -> Column:
    return F.when(F.trim(c) != "", c)


def _str_array(c: Column) -> Column:
    return F.coalesce(c.cast("array<string>"), F.array().cast("array<string>"))


def _conform(df: DataFrame) -> DataFrame:
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in UNIFIED_SCHEMA.fields])


def _dxr(df: DataFrame, records_labels: Iterable[str], everyone_groups: Iterable[str]) -> DataFrame:
    everyone = _lit_array(everyone_groups)
    records = _lit_array(records_labels)

    def is_everyone(e: Column) -> Column:
        return (
            F.array_contains(everyone, F.lower(F.trim(e["name"])))
            | F.array_contains(everyone, F.lower(F.trim(e["email"])))
            | F.array_contains(everyone, F.lower(F.trim(e["id"])))
        )

    labels = _str_array(F.col("labels"))
    ents = F.col("entitlements")
    return _conform(
        df.select(
            F.lit("dxr").alias("source_system"),
            F.col("file_id"),
            F.col("path"),
            F.coalesce(_blank_to_null(F.col("file_name")), F.element_at(F.split(F.col("path"), "/"), -1))
            .alias("file_name"),
            F.col("size"),
            F.coalesce(_blank_to_null(F.col("owner_email")), _blank_to_null(F.col("owner_name"))).alias("owner"),
            F.col("created_at"),
            F.col("last_modified_at"),
            F.lower(_blank_to_null(F.col("content_sha256"))).alias("content_sha256"),
            labels.alias("labels"),
            _str_array(F.col("dlp_labels")).alias("dlp_labels"),
            _str_array(F.col("annotator_names")).alias("annotator_names"),
            F.when(
                F.exists(labels, lambda label: F.array_contains(records, F.lower(F.trim(label)))), F.lit("Records")
            ).alias("classification"),
            F.when(ents.isNotNull(), F.coalesce(F.exists(ents, is_everyone), F.lit(False))).alias(
                "readable_by_everyone"
            ),
            F.col("datasource_name"),
            F.col("ingestion_date"),
        )
    )


def _workspace(df: DataFrame) -> DataFrame:
    source = F.lower(F.coalesce(F.col("source"), F.lit("workspace")))
    path = F.col("path")
    shared = path.startswith("/Shared/") | path.startswith("/Workspace/Shared/")
    empty = F.array().cast("array<string>")
    return _conform(
        df.where(
            F.col("object_type").isNull() | ~F.upper(F.col("object_type")).isin(*_EXCLUDED_OBJECT_TYPES)
        ).select(
            F.lit("workspace").alias("source_system"),
            F.concat(source, F.lit(":"), path).alias("file_id"),
            path.alias("path"),
            F.element_at(F.split(F.regexp_replace(path, "/+$", ""), "/"), -1).alias("file_name"),
            F.col("size"),
            _blank_to_null(F.col("username")).alias("owner"),
            F.lit(None).cast("timestamp").alias("created_at"),
            F.col("modified_at").alias("last_modified_at"),
            F.lit(None).cast("string").alias("content_sha256"),
            empty.alias("labels"),
            empty.alias("dlp_labels"),
            empty.alias("annotator_names"),
            F.lit(None).cast("string").alias("classification"),
            F.when((source == "dbfs") | shared, F.lit(True)).alias("readable_by_everyone"),
            source.alias("datasource_name"),
            F.col("ingestion_date"),
        )
    )


def _empty(spark: Optional[SparkSession]) -> DataFrame:
    spark = spark or SparkSession.getActiveSession()
    if spark is None:
        raise ValueError("unified_files: no source DataFrame and no active Spark session")
    # No createDataFrame: an empty, typed, lazy frame.
    return spark.range(0).select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in UNIFIED_SCHEMA.fields])


def unified_files(
    dxr_df: Optional[DataFrame],
    workspace_df: Optional[DataFrame],
    *,
    records_labels: Iterable[str] = RECORDS_LABELS,
    everyone_groups: Iterable[str] = EVERYONE_GROUPS,
    spark: Optional[SparkSession] = None,
) -> DataFrame:
    """All files from the configured sources with the :data:`UNIFIED_SCHEMA` columns (lazy)."""
    parts = []
    if dxr_df is not None:
        parts.append(_dxr(dxr_df, records_labels, everyone_groups))
    if workspace_df is not None:
        parts.append(_workspace(workspace_df))
    if not parts:
        return _empty(spark)
    out = parts[0]
    for part in parts[1:]:
        # Every part went through _conform (the same explicit column list), so a positional union
        # is a by-name union; unionByName would make Spark Connect analyse the inputs eagerly.
        out = out.union(part)
    return out
