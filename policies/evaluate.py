"""Evaluate the policy catalogue over ``silver_all_files``: ``gold_policy_flags`` (the per-policy
figures of ``gold_policy_summary`` are counted from the flags in :mod:`file_records.policies.summary`).

The functions are lazy DataFrame-in/DataFrame-out (no actions), so the decorated pipeline tables can
call them directly. In a pipeline they run when the graph is registered, over Spark Connect, before
their input tables exist on a first run, so nothing here may need the plan analysed: no
``.columns``/``.schema``, and none of the steps the Connect server analyses when it receives them
(``withColumn(s)``, ``drop()``, ``distinct()``, ``unionByName``, ...: they hide the pipeline's reads
from its engine; ``file_records.frames`` has select-based equivalents), no DataFrame-bound column
references (``df["x"]``). Columns are referenced by unique names with ``F.col``; a join's helper
columns travel as one struct column named like the output column and are replaced with
``select_except``, so there is nothing to drop afterwards.

The evaluation view
-------------------
Policy predicates and reasons are Spark SQL over the unified columns (:data:`file_records.policies.unified.UNIFIED_SCHEMA`)
plus these helper columns:

=======================  ===============  =========================================================
``as_of``                DATE             the run date (``detected_on``); ages are measured to it,
                                          so a rerun of an old snapshot gives the same flags
``last_activity_at``     TIMESTAMP        ``coalesce(last_modified_at, created_at)``
``days_since_modified``  INT              ``datediff(as_of, last_activity_at)``
``labels_lc``            ARRAY<STRING>    labels, trimmed and lower-cased
``is_duplicate_copy``    BOOLEAN          content hash is in ``gold_duplicate_files``, the file is not
                                          the keeper, and the keeper is still among the files (of the
                                          group's run, with ``per_run``; so "every copy but the
                                          keeper" never catches every copy)
``duplicate_copies``     INT              copies of that content (null if not duplicated)
``duplicate_keeper_path`` STRING          where the keeper is
``hold_ids``             ARRAY<STRING>    hold-list rows matching the file (empty when none)
``hold_reasons``         ARRAY<STRING>    "<hold_id> (<match_type> <value>): <reason>" per match
``owner_status``         STRING           'active' | 'inactive' | 'not_a_user'; null when no users
                                          table was given or the owner cannot be matched (DXR owners
                                          match by e-mail, case-insensitively; a DXR owner with only a
                                          display name is null, not "orphaned")
=======================  ===============  =========================================================

Precedence: a file caught by a ``hold`` policy (``legal_hold``) or, failing that, a ``keep`` policy
(``keep_forever``) keeps all its rows, but the rows of destructive policies (action ``archive`` /
``delete``) carry ``suppressed_by`` = that policy's name.

A policy whose ``requires`` input is not supplied (``duplicates_df``/``users_df``/``holds_df`` is None)
catches nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from file_records.frames import add_columns, select_except
from file_records.policies.model import (
    DESTRUCTIVE_ACTIONS,
    HOLD_MATCH_TYPES,
    SUPPRESSING_ACTIONS,
    Catalogue,
    Hold,
    Policy,
    PolicyConfigError,
    enabled_policies,
)
from file_records.policies.unified import UNIFIED_SCHEMA

__all__ = [
    "FLAG_COLUMNS",
    "FLAG_SCHEMA",
    "HOLDS_SCHEMA",
    "VIEW_HELPER_SCHEMA",
    "check_sql",
    "evaluation_view",
    "holds_frame",
    "policy_flags",
    "read_holds",
]

log = logging.getLogger(__name__)

FLAG_SCHEMA = T.StructType(
    [
        T.StructField("source_system", T.StringType()),
        T.StructField("file_id", T.StringType()),
        T.StructField("path", T.StringType()),
        T.StructField("owner", T.StringType()),
        T.StructField("size", T.LongType()),
        T.StructField("policy", T.StringType()),
        T.StructField("action", T.StringType()),
        T.StructField("severity", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("suppressed_by", T.StringType()),
        T.StructField("detected_on", T.DateType()),
    ]
)
FLAG_COLUMNS: tuple[str, ...] = tuple(f.name for f in FLAG_SCHEMA.fields)

VIEW_HELPER_SCHEMA = T.StructType(
    [
        T.StructField("as_of", T.DateType()),
        T.StructField("last_activity_at", T.TimestampType()),
        T.StructField("days_since_modified", T.IntegerType()),
        T.StructField("labels_lc", T.ArrayType(T.StringType())),
        T.StructField("is_duplicate_copy", T.BooleanType()),
        T.StructField("duplicate_copies", T.IntegerType()),
        T.StructField("duplicate_keeper_path", T.StringType()),
        T.StructField("hold_ids", T.ArrayType(T.StringType())),
        T.StructField("hold_reasons", T.ArrayType(T.StringType())),
        T.StructField("owner_status", T.StringType()),
    ]
)

HOLDS_SCHEMA = "hold_id STRING, match_type STRING, value STRING, reason STRING, added_by STRING, added_on DATE"
# The same as a StructType: a DDL string would be parsed by the server, which a pipeline query
# function does not allow.
_HOLDS_STRUCT = T.StructType(
    [T.StructField(name, T.StringType()) for name in ("hold_id", "match_type", "value", "reason", "added_by")]
    + [T.StructField("added_on", T.DateType())]
)

_KEYS = ("source_system", "file_id")


def _empty_str_array() -> Column:
    return F.array().cast("array<string>")


def read_holds(spark: SparkSession, path: Union[str, Path]) -> DataFrame:
    """The hold list CSV as a lazy DataFrame (validate it with :func:`file_records.policies.model.load_holds`)."""
    return (
        spark.read.schema(HOLDS_SCHEMA)
        .option("header", "true")
        .option("mode", "FAILFAST")
        .option("encoding", "UTF-8")
        .csv(str(path))
    )


def holds_frame(spark: SparkSession, holds: Iterable[Hold]) -> DataFrame:
    """Validated hold rows (:func:`file_records.policies.model.load_holds`) as a small lazy DataFrame of
    :data:`HOLDS_SCHEMA`: the pipeline evaluates exactly the rows that were validated, whatever the
    column order of the CSV."""
    rows = [(h.hold_id, h.match_type, h.value, h.reason, h.added_by, h.added_on) for h in holds]
    return spark.createDataFrame(rows, _HOLDS_STRUCT)


def _source(policies: Union[Catalogue, Iterable[Policy]]) -> Optional[str]:
    return policies.source if isinstance(policies, Catalogue) else None


# --------------------------------------------------------------------------- view helpers


def _duplicates(files: DataFrame, duplicates_df: Optional[DataFrame], per_run: bool = False) -> DataFrame:
    def no_dup(df: DataFrame) -> DataFrame:
        return df.select(
            "*",
            F.lit(False).alias("is_duplicate_copy"),
            F.lit(None).cast("int").alias("duplicate_copies"),
            F.lit(None).cast("string").alias("duplicate_keeper_path"),
        )

    if duplicates_df is None:
        return no_dup(files)
    groups = duplicates_df.select(
        F.lower(F.col("content_sha256")).alias("_group_sha"),
        F.col("keeper_file_id").cast("string").alias("_group_keeper_id"),
        F.col("keeper_path").cast("string").alias("_group_keeper_path"),
        F.col("copies").cast("int").alias("_group_copies"),
        (F.to_date(F.col("ingestion_date")) if per_run else F.lit(None).cast("date")).alias("_group_run"),
    ).where(F.col("_group_sha").isNotNull())
    # Files without a hash (workspace, discovery-only DXR rows) skip the join: no null-key skew.
    hashed = files.where(F.col("content_sha256").isNotNull())
    # The keeper must still be among the files (with per_run, the files of its run), else nothing in
    # the group is a "copy". That is looked up with the files' keys alone, so no file's whole row is
    # shuffled for it (a window over the hash did: 400,000 files, the flags' query 1.4 s of CPU longer).
    keys = hashed.select(
        F.col("content_sha256").alias("_file_sha"), F.col("file_id").alias("_file_id"), F.col("as_of").alias("_file_run")
    )
    is_keeper = (F.col("_group_sha") == F.col("_file_sha")) & (F.col("_group_keeper_id") == F.col("_file_id"))
    if per_run:
        is_keeper = is_keeper & (F.col("_group_run") == F.col("_file_run"))
    keepers = keys.join(groups, is_keeper, "left_semi")

    def group(rows: DataFrame, keeper_present: bool) -> DataFrame:
        # The duplicates side travels as ONE struct column already named like the first helper column;
        # select_except below replaces it. So no helper column has to be dropped afterwards
        # (Drop is resolved eagerly by Spark Connect, which fails before pipeline tables exist), and
        # every reference is by a unique name, never bound to a DataFrame.
        return rows.select(
            F.struct(
                F.col("_group_sha").alias("sha"),
                F.col("_group_keeper_id").alias("keeper_id"),
                F.col("_group_keeper_path").alias("keeper_path"),
                F.col("_group_copies").alias("copies"),
                F.col("_group_run").alias("run"),
                F.lit(keeper_present).alias("keeper_present"),
            ).alias("is_duplicate_copy")
        )

    # Semi and anti joins keep the groups' size estimate (their union: twice it), so Spark broadcasts
    # the groups to the files while that is under its threshold, as it did the duplicates table.
    dup = group(groups.join(keepers, is_keeper, "left_semi"), True).union(
        group(groups.join(keepers, is_keeper, "left_anti"), False)
    )
    same_content = F.col("content_sha256") == F.col("is_duplicate_copy.sha")
    if per_run:
        same_content = same_content & (F.col("as_of") == F.col("is_duplicate_copy.run"))
    joined = hashed.join(dup, same_content, "left")
    is_copy = F.col("is_duplicate_copy.keeper_present") & (F.col("file_id") != F.col("is_duplicate_copy.keeper_id"))
    # All three are computed from the joined row, then is_duplicate_copy (the struct, the last
    # column) is replaced and the other two appended: the same columns, in the same order, as no_dup().
    with_dup = select_except(
        joined,
        ["is_duplicate_copy"],
        F.coalesce(is_copy, F.lit(False)).alias("is_duplicate_copy"),
        F.col("is_duplicate_copy.copies").alias("duplicate_copies"),
        F.col("is_duplicate_copy.keeper_path").alias("duplicate_keeper_path"),
    )
    # Both sides are `files` plus the same three helper columns in the same order: union by position.
    return with_dup.union(no_dup(files.where(F.col("content_sha256").isNull())))


def _norm_path(c: Column) -> Column:
    return F.lower(F.regexp_replace(c, r"^/+", ""))


def _hold_matches(files: DataFrame, holds_df: DataFrame) -> DataFrame:
    """(source_system, file_id, hold_ids, hold_reasons) for files matching the hold list."""
    holds = holds_df.select(
        F.trim(F.col("hold_id")).alias("_hold_id"),
        F.lower(F.trim(F.col("match_type"))).alias("_match_type"),
        F.trim(F.col("value")).alias("_value"),
        F.col("reason").cast("string").alias("_reason"),
    ).where(
        F.col("_hold_id").isNotNull()
        & (F.col("_hold_id") != "")
        & F.col("_value").isNotNull()
        & (F.col("_value") != "")
        & F.col("_match_type").isin(*HOLD_MATCH_TYPES)
    )
    holds = add_columns(
        holds,
        _desc=F.concat(
            F.col("_hold_id"), F.lit(" ("), F.col("_match_type"), F.lit(" "), F.col("_value"), F.lit(")"),
            F.when(F.trim(F.col("_reason")) != "", F.concat(F.lit(": "), F.trim(F.col("_reason")))).otherwise(F.lit("")),
        ),
    )
    f = files.select(*_KEYS, F.col("path"), F.col("content_sha256"), _norm_path(F.col("path")).alias("_np"))

    by_id = f.join(
        F.broadcast(holds.where(F.col("_match_type") == "file_id")),
        F.col("file_id") == F.col("_value"),
        "inner",
    )
    by_hash = f.join(
        F.broadcast(holds.where(F.col("_match_type") == "content_sha256")),
        F.col("content_sha256") == F.lower(F.col("_value")),
        "inner",
    )
    # Path rules: component-boundary prefix; glob '*' / '?' translated to LIKE with '\' escapes.
    value = _norm_path(F.col("_value"))
    glob = value
    for old, new in (("\\", "\\\\"), ("%", "\\%"), ("_", "\\_"), ("*", "%"), ("?", "_")):
        glob = F.replace(glob, F.lit(old), F.lit(new))
    path_holds = holds.where(F.col("_match_type").isin("path_prefix", "path_glob")).select(
        "*", F.regexp_replace(value, r"/+$", "").alias("_prefix"), glob.alias("_glob")
    )
    path_cond = (
        (F.col("_match_type") == "path_prefix")
        & (
            (F.col("_prefix") == "")
            | (F.col("_np") == F.col("_prefix"))
            | F.startswith(F.col("_np"), F.concat(F.col("_prefix"), F.lit("/")))
        )
    ) | ((F.col("_match_type") == "path_glob") & F.like(F.col("_np"), F.col("_glob")))
    by_path = f.where(F.col("path").isNotNull()).join(F.broadcast(path_holds), path_cond, "inner")

    cols = [*_KEYS, "_hold_id", "_desc"]
    # The same explicit column list on every side: a positional union is a by-name union here.
    matches = by_id.select(*cols).union(by_hash.select(*cols)).union(by_path.select(*cols))
    return matches.groupBy(*_KEYS).agg(
        F.array_sort(F.collect_set("_hold_id")).alias("hold_ids"),
        F.array_sort(F.collect_set("_desc")).alias("hold_reasons"),
    )


def _holds(files: DataFrame, holds_df: Optional[DataFrame], match_on: Optional[DataFrame] = None) -> DataFrame:
    """Add hold_ids / hold_reasons; matching runs on ``match_on`` (the plain files, default ``files``)."""
    if holds_df is None:
        return files.select("*", _empty_str_array().alias("hold_ids"), _empty_str_array().alias("hold_reasons"))
    # One struct column named like the first output column (see _duplicates): nothing to drop later.
    m = _hold_matches(match_on if match_on is not None else files, holds_df).select(
        F.struct(
            F.col("source_system").alias("ss"),
            F.col("file_id").alias("id"),
            F.col("hold_ids").alias("ids"),
            F.col("hold_reasons").alias("reasons"),
        ).alias("hold_ids")
    )
    joined = files.join(
        m,
        (F.col("source_system") == F.col("hold_ids.ss")) & (F.col("file_id") == F.col("hold_ids.id")),
        "left",
    )
    # hold_ids (the struct, the last column) is replaced and hold_reasons appended.
    return select_except(
        joined,
        ["hold_ids"],
        F.coalesce(F.col("hold_ids.ids"), _empty_str_array()).alias("hold_ids"),
        F.coalesce(F.col("hold_ids.reasons"), _empty_str_array()).alias("hold_reasons"),
    )


def _users(files: DataFrame, users_df: Optional[DataFrame]) -> DataFrame:
    if users_df is None:
        return files.select("*", F.lit(None).cast("string").alias("owner_status"))
    # One struct column named owner_status, replaced in place below (see _duplicates).
    users = (
        users_df.select(
            F.lower(F.trim(F.col("username"))).alias("_ukey"),
            F.coalesce(F.col("active").cast("boolean"), F.lit(False)).alias("_uactive"),
        )
        .where(F.col("_ukey").isNotNull() & (F.col("_ukey") != ""))
        .groupBy("_ukey")
        .agg(F.bool_or("_uactive").alias("_uactive"))
        .select(
            F.struct(F.col("_ukey").alias("key"), F.col("_uactive").alias("active")).alias("owner_status")
        )
    )
    owner = F.lower(F.trim(F.col("owner")))
    owner_key = F.when(
        (F.col("source_system") != "dxr") | owner.contains("@"), F.when(owner != "", owner)
    )
    joined = files.join(users, owner_key == F.col("owner_status.key"), "left")
    status = (
        F.when(owner_key.isNull(), F.lit(None).cast("string"))
        .when(F.col("owner_status").isNull(), F.lit("not_a_user"))
        .when(F.col("owner_status.active"), F.lit("active"))
        .otherwise(F.lit("inactive"))
    )
    return select_except(joined, ["owner_status"], status.alias("owner_status"))


def evaluation_view(
    files_df: DataFrame,
    duplicates_df: Optional[DataFrame] = None,
    users_df: Optional[DataFrame] = None,
    holds_df: Optional[DataFrame] = None,
    *,
    detected_on_col: str = "ingestion_date",
    per_run: bool = False,
) -> DataFrame:
    """The unified files plus the helper columns the predicates may use (lazy; never inspects the
    schema, so it also works on not-yet-materialised pipeline datasets).

    ``per_run``: ``files_df`` holds several runs (one per ``detected_on_col`` date) and
    ``duplicates_df`` one duplicate group per hash *and* ``ingestion_date``; files meet the groups of
    their own run only."""
    base = add_columns(files_df, as_of=F.to_date(F.col(detected_on_col)))
    activity = F.coalesce(F.col("last_modified_at"), F.col("created_at"))
    base = base.select(
        "*",
        activity.alias("last_activity_at"),
        F.datediff(F.col("as_of"), activity).alias("days_since_modified"),
        F.transform(F.coalesce(F.col("labels"), _empty_str_array()), lambda label: F.lower(F.trim(label))).alias("labels_lc"),
    )
    view = _duplicates(base, duplicates_df, per_run)
    view = _holds(view, holds_df, match_on=base)
    view = _users(view, users_df)
    return view


# --------------------------------------------------------------------------- flags


def _expr(sql: str, policy: Policy, field: str, source: Optional[str]) -> Column:
    try:
        return F.expr(sql)
    except Exception as exc:  # noqa: BLE001 - ParseException on classic Spark; Connect parses lazily
        raise PolicyConfigError(f"invalid SQL: {_first_line(exc)}", file=source, policy=policy.name,
                                field=field) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _available(policy: Policy, inputs: dict[str, bool]) -> bool:
    missing = [r for r in policy.requires if not inputs[r]]
    if missing:
        log.info("policy %s skipped: no %s input", policy.name, ", ".join(missing))
        return False
    return True


def policy_flags(
    files_df: DataFrame,
    policies: Union[Catalogue, Iterable[Policy]],
    duplicates_df: Optional[DataFrame] = None,
    users_df: Optional[DataFrame] = None,
    holds_df: Optional[DataFrame] = None,
    detected_on_col: str = "ingestion_date",
    per_run: bool = False,
) -> DataFrame:
    """One row per (file, policy caught), columns :data:`FLAG_COLUMNS` (lazy, a single pass over the view).

    ``files_df`` is ``silver_all_files`` (:func:`file_records.policies.unified.unified_files`); ``detected_on``
    is its ``detected_on_col``. ``per_run``: see :func:`evaluation_view`.
    """
    source = _source(policies)
    active = enabled_policies(policies)
    inputs = {"duplicates": duplicates_df is not None, "users": users_df is not None, "holds": holds_df is not None}
    active = [p for p in active if _available(p, inputs)]
    view = evaluation_view(files_df, duplicates_df, users_df, holds_df, detected_on_col=detected_on_col,
                           per_run=per_run)

    if not active:
        return view.where(F.lit(False)).select(
            *[F.lit(None).cast(f.dataType).alias(f.name) for f in FLAG_SCHEMA.fields]
        )

    preds = {p.name: _expr(p.predicate_sql, p, "predicate", source) for p in active}
    reasons = {p.name: _expr(p.reason_sql, p, "reason", source) for p in active}

    suppressor: Column = F.lit(None).cast("string")
    ranked = [p for a in SUPPRESSING_ACTIONS for p in active if p.action == a]
    if ranked:
        suppressor = F.coalesce(*[F.when(preds[p.name], F.lit(p.name)) for p in ranked], F.lit(None).cast("string"))

    caught = []
    for p in active:
        suppressed = F.col("_suppressor") if p.action in DESTRUCTIVE_ACTIONS else F.lit(None).cast("string")
        caught.append(
            F.when(
                preds[p.name],
                F.struct(
                    F.lit(p.name).alias("policy"),
                    F.lit(p.action).alias("action"),
                    F.lit(p.severity).alias("severity"),
                    F.coalesce(reasons[p.name].cast("string"), F.lit(f"caught by policy {p.name}")).alias("reason"),
                    suppressed.alias("suppressed_by"),
                ),
            )
        )
    try:
        staged = view.select("*", suppressor.alias("_suppressor"))
        exploded = staged.select(
            *[F.col(c) for c in ("source_system", "file_id", "path", "owner", "size", "as_of")],
            # explode, then drop the policies that did not catch the row: filter() would run a lambda,
            # interpreted, on every file (400,000 files: the flags' query 0.8 s of CPU longer).
            F.explode(F.array(*caught)).alias("_f"),
        ).where(F.col("_f").isNotNull())
    except Exception as exc:  # classic Spark analyses here: find the policy at fault
        _blame(view, active, source, exc)
        raise
    return exploded.select(
        F.col("source_system").cast("string"),
        F.col("file_id").cast("string"),
        F.col("path").cast("string"),
        F.col("owner").cast("string"),
        F.col("size").cast("bigint"),
        F.col("_f.policy").alias("policy"),
        F.col("_f.action").alias("action"),
        F.col("_f.severity").alias("severity"),
        F.col("_f.reason").alias("reason"),
        F.col("_f.suppressed_by").alias("suppressed_by"),
        F.col("as_of").alias("detected_on"),
    )


def _blame(view: DataFrame, active: Sequence[Policy], source: Optional[str], exc: Exception) -> None:
    for p in active:
        for field, sql in (("predicate", p.predicate_sql), ("reason", p.reason_sql)):
            try:
                view.select(F.expr(sql))
            except Exception as inner:  # noqa: BLE001 - any analysis error names the policy
                raise PolicyConfigError(f"invalid SQL: {_first_line(inner)}", file=source, policy=p.name,
                                        field=field) from exc


def check_sql(policies: Union[Catalogue, Iterable[Policy]], spark: SparkSession) -> None:
    """Analyse every predicate and reason against an empty evaluation view (no job runs).

    Raises :class:`PolicyConfigError` naming the file, policy and field for SQL that does not parse,
    references unknown columns, or whose predicate is not boolean. Call it at pipeline start.
    """
    source = _source(policies)
    fields = list(UNIFIED_SCHEMA.fields) + list(VIEW_HELPER_SCHEMA.fields)
    empty = spark.range(0).select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in fields])
    for p in enabled_policies(policies):
        for field, sql in (("predicate", p.predicate_sql), ("reason", p.reason_sql)):
            try:
                schema = empty.select(F.expr(sql).alias("x")).schema
            except Exception as exc:  # noqa: BLE001 - any analysis error names the policy
                raise PolicyConfigError(f"invalid SQL: {_first_line(exc)}", file=source, policy=p.name,
                                        field=field) from None
            dtype = schema.fields[0].dataType
            if field == "predicate" and not isinstance(dtype, (T.BooleanType, T.NullType)):
                raise PolicyConfigError(f"must be a boolean expression, got {dtype.simpleString()}", file=source,
                                        policy=p.name, field=field)
