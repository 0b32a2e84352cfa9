"""Evaluation of expectation rules on DataFrames: the OSS emulation of Lakeflow expectations,
quarantine rows and per-rule pass/fail metrics.

Every function is DataFrame-in / DataFrame-out and lazy: only column expressions, filters and
aggregations -- no ``count``/``collect``/``createDataFrame``, no schema lookups (``df.columns``),
no UDFs, no temp views -- so they can be called inside pipeline query functions (classic or
Spark Connect sessions) and on Databricks as well as on OSS Spark.

Semantics (shared by all functions here):

* A rule **passes** for a row when its constraint evaluates to TRUE. FALSE **and NULL** count as a
  failure (``coalesce(constraint, false)``). The shipped rules are null-explicit, so they never
  produce NULL and native Lakeflow expectations see exactly the same pass/fail split.
* ``warn`` keeps the row; ``drop`` removes it from the guarded dataset; ``fail`` stops the flow
  with an error naming the rule and an example key (the first violating row Spark meets).
* Every rule is evaluated independently on every input row (a row dropped by one rule is still
  counted by the others) -- that is what the metrics report.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Sequence, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from file_records.datasets import key_columns
from file_records.expectations.rules import Rule, load_rules
from file_records.frames import add_columns

__all__ = [
    "FAILED_RULES_COLUMN",
    "RUN_METRICS_COLUMNS",
    "METRICS_COLUMNS",
    "apply_rules",
    "failed_rules_column",
    "metrics",
    "metrics_for",
    "metrics_from_runs",
    "metrics_per_run",
    "passes_gating_rules",
    "quarantine",
    "rule_failed",
    "rule_passed",
    "with_rule_results",
]

FAILED_RULES_COLUMN = "_failed_rules"
METRICS_COLUMNS: tuple[str, ...] = (
    "dataset",
    "rule",
    "action",
    "ingestion_date",
    "passed",
    "failed",
    "failure_rate",
)
_MAX_EXAMPLE_CHARS = 500


def rule_passed(rule: Rule) -> Column:
    """TRUE when the row satisfies ``rule``; never NULL (a NULL constraint result is a failure)."""
    return F.coalesce(F.expr(rule.constraint), F.lit(False))


def rule_failed(rule: Rule) -> Column:
    """TRUE when the row violates ``rule`` (constraint FALSE or NULL); never NULL."""
    return ~rule_passed(rule)


def _all_passed(rules: Sequence[Rule]) -> Column:
    """TRUE when the row satisfies every one of ``rules`` (TRUE for none)."""
    keep: Column = F.lit(True)
    for index, rule in enumerate(rules):
        keep = rule_passed(rule) if index == 0 else keep & rule_passed(rule)
    return keep


def failed_rules_column(rules: Sequence[Rule]) -> Column:
    """``ARRAY<STRING>`` of the names of ``rules`` the row fails, in rule order (empty if none)."""
    rules = list(rules)
    if not rules:
        return F.array().cast("array<string>")
    return F.array_compact(F.array(*[F.when(rule_failed(r), F.lit(r.name)) for r in rules]))


def with_rule_results(df: DataFrame, rules: Sequence[Rule], column: str = FAILED_RULES_COLUMN) -> DataFrame:
    """``df`` plus ``column`` (default ``_failed_rules``): names of all rules (any action) the row fails."""
    return add_columns(df, **{column: failed_rules_column(rules)})


KeyColumns = Union[str, Sequence[str], None]


def _key_list(key_column: KeyColumns) -> list[str]:
    if not key_column:
        return []
    return [key_column] if isinstance(key_column, str) else list(key_column)


def _key_text(key_column: KeyColumns) -> Column:
    """``col=value`` (several key columns: ``a=x, b=y``; NULL shown as ``NULL``), else the row as JSON."""
    parts: list[Column] = []
    for index, name in enumerate(_key_list(key_column)):
        prefix = f"{', ' if index else ''}{name}="
        parts += [F.lit(prefix), F.coalesce(F.col(name).cast("string"), F.lit("NULL"))]
    if parts:
        return F.concat(*parts)
    # No key column: show (the start of) the whole row.
    return F.concat(F.lit("row="), F.substring(F.to_json(F.struct(F.col("*"))), 1, _MAX_EXAMPLE_CHARS))


def _fail_message(rule: Rule, key_column: KeyColumns, dataset: Optional[str]) -> Column:
    where = f" in dataset '{dataset or rule.dataset}'" if (dataset or rule.dataset) else ""
    origin = f" ({rule.source})" if rule.source else ""
    return F.concat(
        F.lit(
            f"Expectation '{rule.name}' (action fail){where} violated{origin}: "
            f"constraint `{rule.constraint}` is not true; example key: "
        ),
        _key_text(key_column),
    )


def apply_rules(
    df: DataFrame,
    rules: Sequence[Rule],
    key_column: KeyColumns = None,
    dataset: Optional[str] = None,
) -> DataFrame:
    """The OSS equivalent of stacking ``expect_all`` / ``expect_all_or_drop`` / ``expect_all_or_fail``.

    * ``warn`` rules: nothing happens to the data (their counts come from :func:`metrics`).
    * ``drop`` rules: rows failing any of them are filtered out.
    * ``fail`` rules: evaluating the result raises ``[USER_RAISED_EXCEPTION] Expectation '<rule>'
      ... example key: <key_column>=<value>`` (``F.raise_error``) as soon as a violating row is met.
      Fail rules are checked on every input row, including rows a drop rule removes.

    The output schema is exactly the input schema (only filters are added). ``key_column`` names
    the column(s) shown as the example key (default: the dataset's key in the registry,
    :func:`file_records.datasets.key_columns`; with none, the row as JSON). Lazy; works on batch and
    streaming DataFrames.
    """
    rules = list(rules)
    if key_column is None:
        ds = dataset or next((r.dataset for r in rules if r.dataset), None)
        key_column = key_columns(ds) if ds else None
    fail_rules = [r for r in rules if r.action == "fail"]
    drop_rules = [r for r in rules if r.action == "drop"]
    if not fail_rules and not drop_rules:
        return df
    keep = _all_passed(drop_rules)
    if not fail_rules:
        return df.filter(keep)
    # One CASE expression: fail checks come first and the predicate cannot be split into
    # conjuncts, so no drop condition is pushed below the fail checks (e.g. into a Parquet scan).
    predicate: Optional[Column] = None
    for rule in fail_rules:
        raise_col = F.raise_error(_fail_message(rule, key_column, dataset))
        predicate = (
            F.when(rule_failed(rule), raise_col)
            if predicate is None
            else predicate.when(rule_failed(rule), raise_col)
        )
    assert predicate is not None
    return df.filter(predicate.otherwise(keep))


def _gating(rules: Sequence[Rule], include_fail: bool = True) -> list[Rule]:
    actions = ("drop", "fail") if include_fail else ("drop",)
    return [r for r in rules if r.action in actions]


def passes_gating_rules(rules: Sequence[Rule]) -> Column:
    """TRUE when the row breaks no drop or fail rule: a row the guarded dataset keeps (see :func:`passing`)."""
    return _all_passed(_gating(rules))


def passing(df: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """The rows a guarded dataset keeps, without ever raising: the complement of :func:`quarantine`.

    For re-deriving a guarded dataset's rows from history (e.g. every past snapshot) where a
    ``fail`` rule must not stop the flow that reads it: rows that broke a drop or fail rule are left
    out, exactly the rows :func:`quarantine` lists.
    """
    gating = _gating(rules)
    return df.filter(_all_passed(gating)) if gating else df


def quarantine(
    df: DataFrame,
    rules: Sequence[Rule],
    key_column: KeyColumns = None,
    *,
    include_fail: bool = True,
    timestamp: Optional[Column] = None,
) -> DataFrame:
    """Rows that do not reach the guarded dataset, with the reasons.

    Returns the rows of ``df`` that fail at least one ``drop`` rule -- or, with ``include_fail``
    (default), a ``fail`` rule: on OSS such a row stops the guarded flow, and the quarantine, a
    separate flow, records it so the offending rows can be inspected. Columns: every input column,
    then ``failed_rules ARRAY<STRING>`` (the drop/fail rules the row broke, in rule order; warn
    rules are not listed) and ``quarantined_at TIMESTAMP`` (``current_timestamp()`` of the run
    unless ``timestamp`` is given, e.g. ``F.col("ingested_at")``). ``key_column`` is accepted for
    symmetry with :func:`apply_rules`; the key is an input column and therefore already kept.
    """
    del key_column  # the key is one of the input columns, kept as is
    gating = _gating(rules, include_fail)
    stamp = (timestamp if timestamp is not None else F.current_timestamp()).cast("timestamp")
    return (
        df.select(F.col("*"), failed_rules_column(gating).alias("failed_rules"))
        .filter(F.size(F.col("failed_rules")) > 0)
        .select("*", stamp.alias("quarantined_at"))
    )


def _rule_counts(df: DataFrame, rules: Sequence[Rule], groups: Sequence[Column]) -> tuple[DataFrame, Column]:
    """Per group, the row count ``_total`` and one ``_m`` struct (rule, action, failed) per rule, exploded;
    and the failed count as a column (one pass over ``df``)."""
    rules = list(rules)
    failed_cols = [
        F.sum(F.when(rule_passed(rule), F.lit(0)).otherwise(F.lit(1))).cast("long").alias(f"_failed_{i}")
        for i, rule in enumerate(rules)
    ]
    grouped = df.groupBy(*groups).agg(F.count(F.lit(1)).cast("long").alias("_total"), *failed_cols)
    item_type = "array<struct<rule:string,action:string,failed:bigint>>"
    if rules:
        items = F.array(
            *[
                F.struct(
                    F.lit(rule.name).alias("rule"),
                    F.lit(rule.action).alias("action"),
                    F.col(f"_failed_{i}").cast("long").alias("failed"),
                )
                for i, rule in enumerate(rules)
            ]
        )
    else:
        items = F.array().cast(item_type)
    exploded = grouped.select(F.col("*"), F.explode(items).alias("_m"))
    failed = F.coalesce(F.col("_m.failed"), F.lit(0).cast("long"))
    return exploded, failed


def _with_rate(df: DataFrame) -> DataFrame:
    total = F.col("passed") + F.col("failed")
    return add_columns(
        df,
        failure_rate=F.when(total > 0, F.col("failed").cast("double") / total.cast("double")).otherwise(F.lit(0.0)).cast("double"),
    )


def metrics(
    df: DataFrame,
    rules: Sequence[Rule],
    dataset: str,
    date_column: str = "ingestion_date",
) -> DataFrame:
    """Pass/fail counts per (ingestion date, rule) -- the OSS stand-in for the event log's
    ``flow_progress.data_quality.expectations``.

    ``df`` is the input of the guarded dataset (before any rule is applied). One row per
    ``date_column`` value present in ``df`` and per rule (dates without rows produce no row), with
    columns ``dataset, rule, action, ingestion_date DATE, passed BIGINT, failed BIGINT,
    failure_rate DOUBLE`` (``failed / (passed + failed)``, 0.0 when there are no rows). NULL
    constraint results count as failed. Aggregations only: one pass over ``df``.
    """
    exploded, failed = _rule_counts(df, rules, [F.col(date_column).cast("date").alias("ingestion_date")])
    return _with_rate(
        exploded.select(
            F.lit(dataset).cast("string").alias("dataset"),
            F.col("_m.rule").alias("rule"),
            F.col("_m.action").alias("action"),
            F.col("ingestion_date"),
            (F.col("_total") - failed).cast("long").alias("passed"),
            failed.cast("long").alias("failed"),
        )
    )


#: Columns of :func:`metrics_per_run`: the per-run facts ``gold_expectation_metrics`` is folded from.
RUN_METRICS_COLUMNS: tuple[str, ...] = ("dataset", "rule", "action", "run_id", "ingestion_date", "passed", "failed")


def metrics_per_run(df: DataFrame, rules: Sequence[Rule], dataset: str, run_column: str) -> DataFrame:
    """Pass/fail counts per run (``run_column``: a DXR snapshot, a workspace scan) and rule, in
    :data:`RUN_METRICS_COLUMNS`: what one run contributes to the metrics, computed once when the run
    arrives (see :func:`metrics_from_runs`)."""
    exploded, failed = _rule_counts(
        df, rules,
        [F.col(run_column).cast("string").alias("run_id"), F.col("ingestion_date").cast("date").alias("ingestion_date")],
    )
    return exploded.select(
        F.lit(dataset).cast("string").alias("dataset"),
        F.col("_m.rule").alias("rule"),
        F.col("_m.action").alias("action"),
        F.col("run_id"),
        F.col("ingestion_date"),
        (F.col("_total") - failed).cast("long").alias("passed"),
        failed.cast("long").alias("failed"),
    )


def metrics_from_runs(per_run: DataFrame) -> DataFrame:
    """``gold_expectation_metrics`` from per-run counts (:func:`metrics_per_run`): one row per dataset,
    rule and ingestion date, summing the runs of that date (the action is the newest run's)."""
    return _with_rate(
        per_run.groupBy("dataset", "rule", "ingestion_date")
        .agg(
            F.max_by("action", "run_id").alias("action"),
            F.sum("passed").cast("long").alias("passed"),
            F.sum("failed").cast("long").alias("failed"),
        )
        .select("dataset", "rule", "action", "ingestion_date", "passed", "failed")
    )


def metrics_for(
    inputs: Mapping[str, DataFrame],
    rules: Optional[Mapping[str, Sequence[Rule]]] = None,
    date_column: str = "ingestion_date",
) -> DataFrame:
    """:func:`metrics` of several datasets, unioned: ``{dataset: input DataFrame}`` -> one DataFrame
    (the body of ``gold_expectation_metrics``). Rules default to each dataset's rules file."""
    if not inputs:
        raise ValueError("metrics_for needs at least one dataset")
    frames: Iterable[DataFrame] = (
        metrics(
            frame,
            rules[name] if rules is not None and name in rules else load_rules(name),
            name,
            date_column,
        )
        for name, frame in inputs.items()
    )
    result: Optional[DataFrame] = None
    for frame in frames:
        # union, not unionByName: inside a pipeline query function unionByName resolves eagerly
        # (before upstream tables exist); the metrics frames have one fixed column order.
        result = frame if result is None else result.union(frame)
    assert result is not None
    return result
