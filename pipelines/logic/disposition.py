"""``gold_disposition_status``: did a file that ``remediate`` archived really leave its source?

The proof-of-disposition log (``disposition-YYYYMMDD.jsonl``, written by remediation/proof.py) is a
source of the pipeline; each archived file's latest done action is checked against the snapshots
taken after it, as versions of :mod:`file_records.pipelines.logic.lifecycle` record them: gone from
a later complete snapshot (``confirmed``), no snapshot since (``pending``), there again
(``reappeared``: an alert, unless ``restored_at`` says an undo put it back on purpose).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from file_records.frames import add_columns, replace_columns

__all__ = [
    "DISPOSITION_COLUMNS",
    "DISPOSITION_LOG_SCHEMA",
    "disposition_status",
    "empty_disposition_log",
    "read_disposition_log",
]



DISPOSITION_COLUMNS: tuple[str, ...] = (
    "source_system", "file_id", "path", "policy", "reviewer", "archived_at", "archive_location", "status",
    "checked_snapshot_id", "checked_at", "restored_at",
)

#: The proof-of-disposition log (``disposition-YYYYMMDD.jsonl``): the fields this module reads.
DISPOSITION_LOG_SCHEMA = T.StructType(
    [
        T.StructField("logged_at", T.StringType()),  # ISO 8601 text; cast when read (disposition_status)
        T.StructField("action", T.StringType()),
        T.StructField("outcome", T.StringType()),
        T.StructField("source_system", T.StringType()),
        T.StructField("file_id", T.StringType()),
        T.StructField("path", T.StringType()),
        T.StructField("content_sha256", T.StringType()),
        T.StructField("size", T.LongType()),
        T.StructField("policy", T.StringType()),
        T.StructField("reviewer", T.StringType()),
        T.StructField("operator", T.StringType()),
        T.StructField("archive_location", T.StringType()),
    ]
)


# --------------------------------------------------------------------------------------------------
# gold_disposition_status
# --------------------------------------------------------------------------------------------------

#: The proof-of-disposition log files (remediation/proof.py).
DISPOSITION_LOG_GLOB = "disposition-*.jsonl"


def empty_disposition_log(spark) -> DataFrame:
    """An empty, typed, lazy log (no disposition log configured or written yet)."""
    return spark.range(0).select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in DISPOSITION_LOG_SCHEMA.fields])


def read_disposition_log(spark, folder) -> DataFrame:
    """The disposition log in ``folder`` (``disposition-*.jsonl``, read with
    :data:`DISPOSITION_LOG_SCHEMA`); an empty log when ``folder`` is unset, missing or holds no log file.

    The folder is looked at on the driver when the query is defined (nothing of Spark is analysed);
    lines that do not parse (a record torn by a crash) are skipped, as remediation/proof.py asks."""
    from pathlib import Path

    if folder is None:
        return empty_disposition_log(spark)
    path = Path(folder)
    if not path.is_dir() or not any(path.glob(DISPOSITION_LOG_GLOB)):
        return empty_disposition_log(spark)
    return (
        spark.read.schema(DISPOSITION_LOG_SCHEMA)
        .option("mode", "DROPMALFORMED")
        .option("pathGlobFilter", DISPOSITION_LOG_GLOB)
        .json(str(path))
    )


def _match_keys(source: Column, file_id: Column, path: Column) -> Column:
    """How a log record finds its file: DXR by ``file_id``; workspace by ``file_id`` (``'<source>:<path>'``,
    what remediate writes) or, for a record without one, by ``path``."""
    def key(kind: str, value: Column) -> Column:
        return F.struct(F.lit(kind).alias("kind"), value.alias("value"))

    return F.when(source == "workspace", F.array(key("id", file_id), key("path", path))).otherwise(
        F.array(key("id", file_id))
    )


def disposition_status(log: DataFrame, history: DataFrame, snaps: DataFrame) -> DataFrame:
    """``gold_disposition_status`` (:data:`DISPOSITION_COLUMNS`): one row per file whose latest
    ``done`` archive in the disposition log.

    A record is matched to the history by ``file_id`` (DXR; workspace records too, whose ``file_id`` is
    ``'<source>:<path>'``) or, for a workspace record without a ``file_id``, by ``path``. For an archive:

    * ``reappeared`` (an alert): a snapshot of its source taken after the action returned the file
      (present or quarantined); ``checked_snapshot_id`` is the newest such snapshot;
    * ``pending``: no snapshot of its source since the action, or the file still has an open version
      that no snapshot since has closed (a workspace scan that could not list its home proves nothing);
    * ``confirmed``: otherwise; ``checked_snapshot_id`` is the newest snapshot of its source since.

    An undo (``remediate --undo``) puts the file back, so the next snapshot sees it: ``reappeared``, with
    ``restored_at`` saying it was put back on purpose (NULL: nobody did; investigate). ``failed`` actions are
    ignored: the file stayed where it was. ``logged_at`` is read as text and cast, so any ISO 8601 form
    (``Z`` or ``+00:00``, fractions of a second) parses."""
    actions = replace_columns(
        log.where((F.col("outcome") == "done") & F.col("action").isin("archive", "undo")),
        logged_at=F.col("logged_at").cast("timestamp"),
    )
    key = F.when(
        (F.col("source_system") == "workspace") & F.col("file_id").isNull(),
        F.struct(F.lit("path").alias("kind"), F.col("path").alias("value")),
    ).otherwise(F.struct(F.lit("id").alias("kind"), F.col("file_id").alias("value")))
    done = add_columns(actions, _key=key).where(F.col("_key.value").isNotNull())
    newest_first = Window.partitionBy("source_system", "_key").orderBy(
        F.col("logged_at").desc_nulls_last(), F.col("action").asc()  # same instant: archive wins over undo
    )
    # The status follows the latest archive; an undo after it only says why the file is back.
    latest = add_columns(done.where(F.col("action") == "archive"), _n=F.row_number().over(newest_first)).where(
        F.col("_n") == 1
    )
    undos = done.where(F.col("action") == "undo").groupBy(
        F.col("source_system").alias("_u_source"), F.col("_key").alias("_u_key")
    ).agg(F.max("logged_at").alias("_undone_at"))
    latest = latest.join(
        undos, (F.col("source_system") == F.col("_u_source")) & (F.col("_key") == F.col("_u_key")), "left"
    )

    snap_times = snaps.select(
        F.col("source_system").alias("_s_source"),
        F.col("snapshot_id").alias("_s_snapshot"),
        F.col("ingested_at").alias("_s_at"),
    )
    seen_times = F.broadcast(snap_times)
    versions = (
        history.select(
            F.col("source_system").alias("_v_source"),
            F.explode(_match_keys(F.col("source_system"), F.col("file_id"), F.col("path"))).alias("_v_key"),
            "is_current",
            "last_seen_snapshot_id",
        )
        .join(
            seen_times,
            (F.col("_v_source") == F.col("_s_source")) & (F.col("last_seen_snapshot_id") == F.col("_s_snapshot")),
            "left",
        )
        .select(
            "_v_source", "_v_key", "is_current", F.col("last_seen_snapshot_id").alias("_v_seen"),
            F.col("_s_at").alias("_v_seen_at"),
        )
    )

    with_versions = latest.join(
        versions,
        (F.col("source_system") == F.col("_v_source")) & (F.col("_key") == F.col("_v_key")),
        "left",
    )
    after = F.col("_v_seen_at") > F.col("logged_at")
    per_file = with_versions.groupBy("source_system", "_key").agg(
        F.first("file_id").alias("file_id"),
        F.first("path").alias("path"),
        F.first("policy").alias("policy"),
        F.first("reviewer").alias("reviewer"),
        F.first("logged_at").alias("archived_at"),
        F.first("archive_location").alias("archive_location"),
        F.first("_undone_at").alias("_undone_at"),
        F.max(F.struct(F.when(after, F.col("_v_seen_at")).alias("at"), F.when(after, F.col("_v_seen")).alias("id")))
        .alias("_reseen"),
        F.max(F.coalesce(F.col("is_current"), F.lit(False))).alias("_open"),
    )
    newest = (
        per_file.select("source_system", "_key", "archived_at")
        .join(seen_times, (F.col("source_system") == F.col("_s_source")) & (F.col("_s_at") > F.col("archived_at")), "inner")
        .groupBy(F.col("source_system").alias("_l_source"), F.col("_key").alias("_l_key"))
        .agg(F.max(F.struct(F.col("_s_at").alias("at"), F.col("_s_snapshot").alias("id"))).alias("_latest"))
    )
    joined = per_file.join(
        newest, (F.col("source_system") == F.col("_l_source")) & (F.col("_key") == F.col("_l_key")), "left"
    )
    reseen = F.col("_reseen.at").isNotNull()
    status = (
        F.when(reseen, F.lit("reappeared"))
        .when(F.col("_latest").isNull() | F.col("_open"), F.lit("pending"))
        .otherwise(F.lit("confirmed"))
    )
    checked = status.isin("reappeared", "confirmed")
    return (
        joined.select(
            "source_system",
            "file_id",
            "path",
            "policy",
            "reviewer",
            "archived_at",
            "archive_location",
            status.alias("status"),
            F.when(checked, F.when(reseen, F.col("_reseen.id")).otherwise(F.col("_latest.id"))).alias(
                "checked_snapshot_id"
            ),
            F.when(checked, F.when(reseen, F.col("_reseen.at")).otherwise(F.col("_latest.at"))).alias("checked_at"),
            F.when(F.col("_undone_at") > F.col("archived_at"), F.col("_undone_at")).alias("restored_at"),
        )
    )
