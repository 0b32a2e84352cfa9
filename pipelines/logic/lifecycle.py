"""File lifecycle: ``silver_file_history`` (SCD type 2 versions of every file of every source),
``gold_file_changes`` (what each snapshot added, removed and changed) and
``gold_disposition_status`` (did an archived file really leave its source?).

Plain, lazy DataFrame -> DataFrame functions (no schema inspection, no ``drop()``, no actions: they
run inside pipeline query functions); pipelines/transformations/lifecycle.py wraps them.

History from bronze, through the silver rules
---------------------------------------------
Bronze keeps every snapshot. For each snapshot of each source the candidate rows are rebuilt exactly
as silver saw them (``dxr.file_history`` / ``workspace.file_history``) and split by the same gating
rules (drop and fail; ``expectations.engine``) into *present* rows (what silver kept) and
*quarantined* rows. Rows without a file id cannot be tracked and are left out.

Versions (SCD type 2)
---------------------
Per file (``source_system``, ``file_id``), the observations in snapshot order:

* a present row opens a version when the file has no open version (``change_type`` ``added``: its
  first version, or its first after it had been removed) or when a tracked attribute differs from
  the open version's (``changed``; the open version closes at that snapshot). Tracked attributes:
  ``size, content_sha256, last_modified_at, path, labels`` (order ignored) ``, owner``, compared
  through a 64-bit hash of their values;
* a file missing from the next *complete* snapshot of its source after an observation is removed
  there: its version closes and no current version is left. Every DXR snapshot is complete (a
  snapshot lands in bronze whole, and a query that stays incomplete fails the batch). A workspace
  scan is complete for a file when the scan's status row of the file's user and source says
  ``success`` or ``empty``; an ``error`` or ``partial`` listing (or a user the scan skipped) proves
  nothing, so the file stays as it was until a complete listing of its home;
* a quarantined row neither opens nor closes a version: the file is treated as unchanged in that
  snapshot (it is there, but what the row says cannot be trusted).

``valid_from`` / ``valid_to`` are the ``ingested_at`` times of the opening / closing snapshots
(``opened_snapshot_id`` / ``closed_snapshot_id``); ``valid_to`` is NULL and ``is_current`` true for
the open version. ``last_seen_snapshot_id`` is the newest snapshot that returned the file (present or
quarantined) while the version was open: the evidence ``gold_disposition_status`` uses.

Cost: sightings kept, history folded
------------------------------------
A *sighting* is one file in one snapshot (:data:`SIGHTING_COLUMNS`): its tracked attributes and
whether the silver rules kept it. With kept facts (pipelines/kept_facts.py, OSS), each snapshot's
sightings are computed once, from the candidates table, when the snapshot arrives, and appended; the
history is folded from the kept sightings (:func:`history_from_sightings`), so a run no longer
re-reads, re-types, re-deduplicates and re-checks every snapshot kept in bronze. The fold still
reads every kept sighting (narrow rows: files x snapshots) and the snapshot list and workspace
status rows of bronze (a few columns): it grows with the history, with a small constant.
Compacting sightings to the changes alone would need each file's previous state while computing
the newest snapshot's, which a pipeline cannot read without a cycle.

On Databricks the same fold runs over sightings recomputed from bronze (:func:`file_history`).
``dp.create_auto_cdc_from_snapshot_flow`` with ``stored_as_scd_type=2`` would be incremental there,
but it only sees what it is given (the quarantine semantics and the workspace completeness rule above
would have to be folded into the snapshot function), it names its validity columns ``__START_AT`` /
``__END_AT`` rather than this table's columns, and OSS Spark's ``pyspark.pipelines`` (4.3) has no
snapshot variant: one fold keeps the local run and Databricks producing identical rows.
"""

from __future__ import annotations

from functools import reduce
from typing import Optional, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from file_records.connectors.dxr.schema import RECORD_TYPE_FILE
from file_records.connectors.workspace.source import RECORD_TYPE_OBJECT, RECORD_TYPE_STATUS
from file_records.expectations import engine
from file_records.expectations.rules import Rule
from file_records.frames import add_columns
from file_records.pipelines.logic import dxr, workspace

__all__ = [
    "CHANGES_COLUMNS",
    "SIGHTING_COLUMNS",
    "HISTORY_COLUMNS",
    "TRACKED_ATTRIBUTES",
    "file_changes",
    "file_history",
    "history_from_sightings",
    "sightings",
    "snapshots",
]

TRACKED_ATTRIBUTES: tuple[str, ...] = ("size", "content_sha256", "last_modified_at", "path", "labels", "owner")

HISTORY_COLUMNS: tuple[str, ...] = (
    "source_system", "file_id", "path", "file_name", "size", "content_sha256", "last_modified_at", "owner",
    "labels", "valid_from", "valid_to", "is_current", "change_type", "opened_snapshot_id", "closed_snapshot_id",
    "last_seen_snapshot_id",
)
CHANGES_COLUMNS: tuple[str, ...] = (
    "source_system", "snapshot_id", "ingestion_date", "files_total", "bytes_total", "files_added", "files_removed",
    "files_changed", "bytes_added", "bytes_removed",
)
#: Workspace listing statuses that prove a file missing from the scan is gone.
COMPLETE_SCAN_STATUSES: tuple[str, ...] = ("success", "empty")

#: Columns of a sighting: one file in one snapshot, as kept per snapshot (see dxr_sightings).
SIGHTING_COLUMNS: tuple[str, ...] = (
    "source_system", "file_id", "path", "file_name", "size", "content_sha256", "last_modified_at", "owner",
    "labels", "snapshot_id", "ingested_at", "present", "listing_user", "listing_source",
)
# Columns of an observation: a sighting with the snapshot that would prove the file removed.
OBSERVATION_COLUMNS: tuple[str, ...] = (
    "source_system", "file_id", "path", "file_name", "size", "content_sha256", "last_modified_at", "owner",
    "labels", "snapshot_id", "ingested_at", "_present", "_removal_at",
)
SNAPSHOT_COLUMNS: tuple[str, ...] = ("source_system", "snapshot_id", "ingestion_date", "ingested_at")

_PRESENT, _QUARANTINED, _REMOVED = "present", "quarantined", "removed"
_EXCLUDED_OBJECT_TYPES = ("DIRECTORY", "REPO")  # not files (as in policies/unified.py)


# --------------------------------------------------------------------------------------------------
# Observations: every file of every snapshot, in the common columns of silver_all_files
# --------------------------------------------------------------------------------------------------

def _blank_to_null(c: Column) -> Column:
    return F.when(F.trim(c) != "", c)


def _str_array(c: Column) -> Column:
    return F.coalesce(c.cast("array<string>"), F.array().cast("array<string>"))


def snapshots(dxr_bronze: Optional[DataFrame] = None, workspace_bronze: Optional[DataFrame] = None) -> DataFrame:
    """One row per snapshot (DXR) / scan (workspace) in bronze, ledger-only ones included:
    ``source_system, snapshot_id, ingestion_date, ingested_at`` (the snapshot's time)."""
    parts = []
    if dxr_bronze is not None:
        parts.append(dxr_bronze.groupBy(F.lit(dxr.SOURCE_SYSTEM).alias("source_system"), "snapshot_id"))
    if workspace_bronze is not None:
        parts.append(
            workspace_bronze.groupBy(F.lit("workspace").alias("source_system"), F.col("scan_id").alias("snapshot_id"))
        )
    if not parts:
        raise ValueError("lifecycle needs at least one source")
    frames = [
        p.agg(F.max("ingestion_date").alias("ingestion_date"), F.max("ingested_at").alias("ingested_at"))
        .where(F.col("snapshot_id").isNotNull())
        .select(*SNAPSHOT_COLUMNS)
        for p in parts
    ]
    return reduce(DataFrame.union, frames)  # one explicit column list: positional union is by name


def dxr_sightings(candidates: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """Every DXR file of the given candidate rows (:data:`SIGHTING_COLUMNS`; ``present`` when it passed
    the silver rules, else quarantined). ``candidates``: silver's candidates, of one snapshot (the
    candidates table) or of every snapshot (``dxr.file_history``).

    The attribute columns follow policies/unified.py (owner = owner email, else name; file name from
    the path when blank; lower-case hash; labels never null); ``tests/pipelines/test_lifecycle.py``
    checks them against ``unified_files``."""
    return candidates.where(F.col("file_id").isNotNull()).select(
        F.lit(dxr.SOURCE_SYSTEM).alias("source_system"),
        "file_id",
        "path",
        F.coalesce(_blank_to_null(F.col("file_name")), F.element_at(F.split(F.col("path"), "/"), -1)).alias("file_name"),
        "size",
        F.lower(_blank_to_null(F.col("content_sha256"))).alias("content_sha256"),
        "last_modified_at",
        F.coalesce(_blank_to_null(F.col("owner_email")), _blank_to_null(F.col("owner_name"))).alias("owner"),
        _str_array(F.col("labels")).alias("labels"),
        "snapshot_id",
        "ingested_at",
        engine.passes_gating_rules(rules).alias("present"),
        F.lit(None).cast("string").alias("listing_user"),
        F.lit(None).cast("string").alias("listing_source"),
    )


def workspace_sightings(candidates: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """Every workspace/DBFS file of the given candidate rows (:data:`SIGHTING_COLUMNS`, ``file_id`` =
    ``'<source>:<path>'`` as in silver_all_files; ``listing_user`` / ``listing_source``: whose listing
    returned it). Directories and repos are not files and are left out."""
    source = F.lower(F.coalesce(F.col("source"), F.lit("workspace")))
    return candidates.where(
        F.col("path").isNotNull()
        & (F.col("object_type").isNull() | ~F.upper(F.col("object_type")).isin(*_EXCLUDED_OBJECT_TYPES))
    ).select(
        F.lit("workspace").alias("source_system"),
        F.concat(source, F.lit(":"), F.col("path")).alias("file_id"),
        "path",
        F.element_at(F.split(F.regexp_replace(F.col("path"), "/+$", ""), "/"), -1).alias("file_name"),
        "size",
        F.lit(None).cast("string").alias("content_sha256"),
        F.col("modified_at").alias("last_modified_at"),
        _blank_to_null(F.col("username")).alias("owner"),
        F.array().cast("array<string>").alias("labels"),
        F.col("scan_id").alias("snapshot_id"),
        "ingested_at",
        engine.passes_gating_rules(rules).alias("present"),
        F.col("username").alias("listing_user"),
        source.alias("listing_source"),
    )


def sightings(
    *,
    dxr_candidates: Optional[DataFrame] = None,
    dxr_rules: Sequence[Rule] = (),
    workspace_candidates: Optional[DataFrame] = None,
    workspace_rules: Sequence[Rule] = (),
) -> DataFrame:
    """The sightings of every configured source's candidate rows, unioned."""
    parts = []
    if dxr_candidates is not None:
        parts.append(dxr_sightings(dxr_candidates, dxr_rules))
    if workspace_candidates is not None:
        parts.append(workspace_sightings(workspace_candidates, workspace_rules))
    if not parts:
        raise ValueError("lifecycle needs at least one source")
    return reduce(DataFrame.union, parts)  # one explicit column list: positional union is by name


def complete_listings(workspace_bronze: DataFrame) -> DataFrame:
    """Per user, source and workspace scan that listed them: ``_next_complete``, the next scan whose
    listing of that user and source was complete (status ``success``/``empty``), NULL if none yet."""
    status = workspace_bronze.where(F.col("record_type") == RECORD_TYPE_STATUS).select(
        F.col("username").alias("_s_user"),
        F.lower(F.coalesce(F.col("source"), F.lit("workspace"))).alias("_s_source"),
        F.col("scan_id").alias("_s_scan"),
        F.col("status").isin(*COMPLETE_SCAN_STATUSES).alias("_complete"),
    )
    after = Window.partitionBy("_s_user", "_s_source").orderBy("_s_scan").rowsBetween(1, Window.unboundedFollowing)
    return add_columns(
        status, _next_complete=F.first(F.when(F.col("_complete"), F.col("_s_scan")), ignorenulls=True).over(after)
    )


def observations_from_sightings(
    sights: DataFrame, snaps: DataFrame, listings: Optional[DataFrame] = None
) -> DataFrame:
    """Sightings plus ``_removal_at`` (:data:`OBSERVATION_COLUMNS`): where a file missing afterwards is
    proved gone. DXR: the source's next snapshot (every DXR snapshot is complete). Workspace: the next
    complete listing of the file's user and source (``listings``: :func:`complete_listings`)."""
    one_source = Window.partitionBy("_n_source").orderBy("_snap")
    following = add_columns(
        snaps.select(F.col("source_system").alias("_n_source"), F.col("snapshot_id").alias("_snap")),
        _next_snap=F.lead("_snap").over(one_source),
    )
    columns = [*OBSERVATION_COLUMNS[:-2], F.col("present").alias("_present")]
    # A few rows (one per snapshot): broadcast.
    dxr_part = sights.where(F.col("source_system") == dxr.SOURCE_SYSTEM).join(
        F.broadcast(following),
        (F.col("source_system") == F.col("_n_source")) & (F.col("snapshot_id") == F.col("_snap")),
        "left",
    ).select(*columns, F.col("_next_snap").alias("_removal_at"))
    if listings is None:
        return dxr_part
    workspace_part = sights.where(F.col("source_system") == "workspace").join(
        listings,
        (F.col("listing_user") == F.col("_s_user"))
        & (F.col("listing_source") == F.col("_s_source"))
        & (F.col("snapshot_id") == F.col("_s_scan")),
        "left",
    ).select(*columns, F.col("_next_complete").alias("_removal_at"))
    return dxr_part.union(workspace_part)


def every_sighting(
    *,
    dxr_bronze: Optional[DataFrame] = None,
    dxr_rules: Sequence[Rule] = (),
    workspace_bronze: Optional[DataFrame] = None,
    workspace_rules: Sequence[Rule] = (),
) -> DataFrame:
    """The sightings of every snapshot kept in bronze (what the kept sightings hold, recomputed)."""
    return sightings(
        dxr_candidates=dxr.file_history(dxr_bronze.where(F.col("record_type") == RECORD_TYPE_FILE))
        if dxr_bronze is not None else None,
        dxr_rules=dxr_rules,
        workspace_candidates=workspace.file_history(workspace_bronze.where(F.col("record_type") == RECORD_TYPE_OBJECT))
        if workspace_bronze is not None else None,
        workspace_rules=workspace_rules,
    )


# --------------------------------------------------------------------------------------------------
# silver_file_history
# --------------------------------------------------------------------------------------------------

def _attribute_hash() -> Column:
    """A 64-bit hash of the tracked attributes, compared only between a file's consecutive sightings
    within one fold (never stored). xxhash64 chains one column into the next, so values cannot run
    into each other; it skips nulls, hence the null flags and the labels' count beside the values.
    At 400,000 files the fold took about 1 s less than with SHA-256 of the attributes' JSON."""
    tracked = [F.col(name) for name in TRACKED_ATTRIBUTES if name != "labels"] + [F.sort_array(F.col("labels"))]
    return F.xxhash64(*tracked, F.size(F.col("labels")), *[value.isNull() for value in tracked])


# The tracked attributes a version shows; the windows below carry only their hash (narrow rows sort
# several times cheaper), and the opening observation's attributes are joined back at the end.
_ATTRIBUTE_COLUMNS: tuple[str, ...] = ("path", "file_name", "size", "content_sha256", "last_modified_at", "owner", "labels")
_KEY = ("source_system", "file_id", "snapshot_id")


def _events(obs: DataFrame) -> DataFrame:
    """Observations plus removal markers, narrow (key, ``ingested_at``, ``_kind`` present |
    quarantined | removed, ``_hash`` of the tracked attributes)."""
    per_file = Window.partitionBy("source_system", "file_id").orderBy("snapshot_id")
    narrow = obs.select(
        *_KEY,
        "ingested_at",
        "_removal_at",
        F.when(F.col("_present"), F.lit(_PRESENT)).otherwise(F.lit(_QUARANTINED)).alias("_kind"),
        _attribute_hash().alias("_hash"),
        F.lead("snapshot_id").over(per_file).alias("_next_obs"),
    )
    seen = narrow.select(*_KEY, "ingested_at", "_kind", "_hash")
    # Missing from the next complete snapshot before the file's next observation: removed there.
    removed = narrow.where(
        F.col("_removal_at").isNotNull() & (F.col("_next_obs").isNull() | (F.col("_next_obs") > F.col("_removal_at")))
    ).select(
        "source_system",
        "file_id",
        F.col("_removal_at").alias("snapshot_id"),
        F.lit(None).cast("timestamp").alias("ingested_at"),
        F.lit(_REMOVED).alias("_kind"),
        F.lit(None).cast("bigint").alias("_hash"),
    )
    return seen.union(removed)


def _versions(events: DataFrame) -> DataFrame:
    """The version boundaries: one row per opening (``_kind`` present) and closing (removed) event,
    with ``_last_seen`` and ``_next_boundary`` (the snapshot that closes the version)."""
    per_file = Window.partitionBy("source_system", "file_id").orderBy("snapshot_id")
    before = per_file.rowsBetween(Window.unboundedPreceding, -1)
    counted = F.col("_kind") != _QUARANTINED  # quarantined rows neither open nor close
    prev_kind = F.last(F.when(counted, F.col("_kind")), ignorenulls=True).over(before)
    prev_hash = F.last(F.when(counted, F.col("_hash")), ignorenulls=True).over(before)
    marked = add_columns(events, _prev_kind=prev_kind, _prev_hash=prev_hash)
    opens = (F.col("_kind") == _PRESENT) & (
        F.col("_prev_kind").isNull() | (F.col("_prev_kind") == _REMOVED) | (F.col("_prev_hash") != F.col("_hash"))
    )
    closes = (F.col("_kind") == _REMOVED) & (F.col("_prev_kind") == _PRESENT)
    marked = add_columns(marked, _boundary=opens | closes)
    segments = add_columns(
        marked, _segment=F.sum(F.col("_boundary").cast("int")).over(per_file.rowsBetween(Window.unboundedPreceding, 0))
    )
    in_segment = Window.partitionBy("source_system", "file_id", "_segment")
    seen = F.col("_kind") != _REMOVED
    boundaries = add_columns(segments, _last_seen=F.max(F.when(seen, F.col("snapshot_id"))).over(in_segment)).where(
        F.col("_boundary")
    )
    return add_columns(boundaries, _next_boundary=F.lead("snapshot_id").over(per_file))


def _boundaries(obs: DataFrame) -> DataFrame:
    return _versions(_events(obs))


def history_from_observations(obs: DataFrame, snaps: DataFrame) -> DataFrame:
    """``silver_file_history`` (:data:`HISTORY_COLUMNS`) from observations and the snapshot list."""
    attributes = obs.select(*[F.col(c).alias(f"_a_{c}") for c in _KEY], *_ATTRIBUTE_COLUMNS)
    opened = _boundaries(obs).where(F.col("_kind") == _PRESENT)
    versions = opened.join(
        attributes, [F.col(c) == F.col(f"_a_{c}") for c in _KEY], "inner"
    )
    closing = F.broadcast(
        snaps.select(
            F.col("source_system").alias("_c_source"),
            F.col("snapshot_id").alias("_c_snapshot"),
            F.col("ingested_at").alias("_c_at"),
        )
    )
    return versions.join(
        closing,
        (F.col("source_system") == F.col("_c_source")) & (F.col("_next_boundary") == F.col("_c_snapshot")),
        "left",
    ).select(
        "source_system",
        "file_id",
        "path",
        "file_name",
        "size",
        "content_sha256",
        "last_modified_at",
        "owner",
        "labels",
        F.col("ingested_at").alias("valid_from"),
        F.col("_c_at").alias("valid_to"),
        F.col("_next_boundary").isNull().alias("is_current"),
        F.when(F.col("_prev_kind") == _PRESENT, F.lit("changed")).otherwise(F.lit("added")).alias("change_type"),
        F.col("snapshot_id").alias("opened_snapshot_id"),
        F.col("_next_boundary").alias("closed_snapshot_id"),
        F.col("_last_seen").alias("last_seen_snapshot_id"),
    )


def history_from_sightings(sights: DataFrame, snaps: DataFrame, listings: Optional[DataFrame] = None) -> DataFrame:
    """``silver_file_history`` from sightings (kept, or recomputed), the snapshot list and, with the
    workspace source, its :func:`complete_listings`."""
    return history_from_observations(observations_from_sightings(sights, snaps, listings), snaps)


def file_history(
    *,
    dxr_bronze: Optional[DataFrame] = None,
    dxr_rules: Sequence[Rule] = (),
    workspace_bronze: Optional[DataFrame] = None,
    workspace_rules: Sequence[Rule] = (),
) -> DataFrame:
    """``silver_file_history`` recomputed from bronze: every version of every file of the configured
    sources (see module doc)."""
    sights = every_sighting(
        dxr_bronze=dxr_bronze, dxr_rules=dxr_rules, workspace_bronze=workspace_bronze, workspace_rules=workspace_rules
    )
    listings = complete_listings(workspace_bronze) if workspace_bronze is not None else None
    return history_from_sightings(sights, snapshots(dxr_bronze, workspace_bronze), listings)


# --------------------------------------------------------------------------------------------------
# gold_file_changes
# --------------------------------------------------------------------------------------------------

def file_changes(history: DataFrame, snaps: DataFrame) -> DataFrame:
    """``gold_file_changes`` (:data:`CHANGES_COLUMNS`): one row per source and snapshot.

    ``files_total`` / ``bytes_total``: files with a version open at the snapshot, so that
    ``files_total = previous files_total + files_added - files_removed`` holds. That is silver's count
    of the snapshot plus files the snapshot quarantined (or a workspace scan could not list) that were
    known before: the history treats them as unchanged. ``files_added`` counts first versions and
    files back after a removal; ``files_changed`` new versions of a file that stayed; ``files_removed``
    versions closed with no successor. ``bytes_added`` / ``bytes_removed``: sizes of the added / removed
    versions. A source's first snapshot adds everything it holds."""
    s = snaps.select("source_system", "snapshot_id", "ingestion_date")
    h = history.select(
        F.col("source_system").alias("_h_source"),
        "size",
        "change_type",
        "opened_snapshot_id",
        "closed_snapshot_id",
        "is_current",
    )
    # A version is open at snapshot S when opened <= S < closed (snapshot ids sort in time order).
    open_at = (
        (F.col("_h_source") == F.col("source_system"))
        & (F.col("opened_snapshot_id") <= F.col("snapshot_id"))
        & (F.col("closed_snapshot_id").isNull() | (F.col("closed_snapshot_id") > F.col("snapshot_id")))
    )
    size = F.coalesce(F.col("size"), F.lit(0))
    opened_here = F.col("opened_snapshot_id") == F.col("snapshot_id")
    totals = (
        s.join(h, open_at, "left")
        .groupBy("source_system", "snapshot_id", "ingestion_date")
        .agg(
            F.count("_h_source").alias("files_total"),
            F.coalesce(F.sum(size), F.lit(0)).cast("bigint").alias("bytes_total"),
            F.count(F.when(opened_here & (F.col("change_type") == "added"), 1)).alias("files_added"),
            F.count(F.when(opened_here & (F.col("change_type") == "changed"), 1)).alias("files_changed"),
            F.coalesce(F.sum(F.when(opened_here & (F.col("change_type") == "added"), size)), F.lit(0))
            .cast("bigint")
            .alias("bytes_added"),
        )
    )
    # Removed at S: a version closed at S whose file has no version opening at S.
    successors = history.select(
        F.col("source_system").alias("_n_source"),
        F.col("file_id").alias("_n_file"),
        F.col("opened_snapshot_id").alias("_n_opened"),
    )
    removed = (
        history.where(F.col("closed_snapshot_id").isNotNull())
        .join(
            successors,
            (F.col("source_system") == F.col("_n_source"))
            & (F.col("file_id") == F.col("_n_file"))
            & (F.col("closed_snapshot_id") == F.col("_n_opened")),
            "left_anti",
        )
        .groupBy(F.col("source_system").alias("_r_source"), F.col("closed_snapshot_id").alias("_r_snapshot"))
        .agg(
            F.count(F.lit(1)).alias("_files_removed"),
            F.sum(F.coalesce(F.col("size"), F.lit(0))).cast("bigint").alias("_bytes_removed"),
        )
    )
    return (
        totals.join(
            removed,
            (F.col("source_system") == F.col("_r_source")) & (F.col("snapshot_id") == F.col("_r_snapshot")),
            "left",
        )
        .select(
            "source_system",
            "snapshot_id",
            "ingestion_date",
            F.col("files_total").cast("bigint").alias("files_total"),
            F.col("bytes_total"),
            F.col("files_added").cast("bigint").alias("files_added"),
            F.coalesce(F.col("_files_removed"), F.lit(0)).cast("bigint").alias("files_removed"),
            F.col("files_changed").cast("bigint").alias("files_changed"),
            F.col("bytes_added"),
            F.coalesce(F.col("_bytes_removed"), F.lit(0)).cast("bigint").alias("bytes_removed"),
        )
    )
