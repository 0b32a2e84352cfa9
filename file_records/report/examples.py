"""The worst data-quality rules and their example rows, for the report's data-quality section.

A quarantined example stands for every quarantine row of its key (its failed rules are the union of
theirs), so the page shows each bad row once; warn-rule examples come from silver itself.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import orjson

from file_records import datasets as registry
from file_records.report import engine
from file_records.report.engine import (  # the helpers every section query goes through
    _duck,
    _plain,
    _rows,
    _safe,
    _sql,
    _t,
)
from file_records.report.redaction import redact

# How an example row of each dataset is shown; table names, keys and labels are in file_records.datasets.
# "excerpt": the column shown as excerpt when the row has it, else the "fields" summarised as JSON.
EXCERPTS = {
    registry.SILVER_FILE_RECORDS.name: {
        "excerpt": "raw_json",
        "fields": ("file_name", "size", "created_at", "last_modified_at", "content_sha256", "datasource_name"),
    },
    registry.SILVER_WORKSPACE_FILES.name: {
        "excerpt": None,
        "fields": ("username", "source", "object_type", "size", "size_is_exact", "size_estimated", "modified_at"),
    },
}
_DEFAULT_EXCERPT = {"excerpt": None, "fields": ("size", "path")}

WORST_RULES = 6
EXAMPLES_PER_RULE = 3
EXCERPT_CHARS = 220

def _quarantine_counts(spark, tables: set[str]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for dataset, spec in registry.DATASETS.items():
        table = spec.quarantine
        if table not in tables:
            continue
        rows = _safe([], lambda table=table: _rows(spark, f"""
            SELECT rule, count(*) AS n FROM (SELECT {_sql("explode", "unnest")}(failed_rules) AS rule FROM {_t(table)})
            GROUP BY rule"""))
        for row in rows:
            counts[(dataset, row["rule"])] = int(row["n"])
    return counts


def _excerpt(row: dict, spec: dict) -> Optional[str]:
    column = spec.get("excerpt")
    if column and row.get(column):
        text = str(row[column])
    else:
        fields = {k: row.get(k) for k in spec.get("fields", ()) if k in row}  # a missing value shows as null
        if not any(v is not None for v in fields.values()) and row.get("parse_error"):
            fields = {"parse_error": row["parse_error"]}
        text = orjson.dumps(fields, default=str).decode() if fields else ""
    text = redact(" ".join(text.split()))
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return text or None


def _spec(dataset: str) -> dict:
    """How the report reads a dataset: key columns and quarantine table from the registry, excerpt here."""
    known = registry.DATASETS.get(dataset)
    return {
        **EXCERPTS.get(dataset, _DEFAULT_EXCERPT),
        "key": known.key if known else (),
        "quarantine": known.quarantine if known else f"{dataset}_quarantine",
    }


def _key_value(row: dict, key: tuple[str, ...]) -> Optional[str]:
    """The row's key as text; a key of several columns is joined with ':' (``workspace:/Users/a/x.py``,
    the form silver_all_files uses as file_id)."""
    values = [row.get(column) for column in key]
    if all(value is None for value in values):
        return None
    return ":".join("" if value is None else str(value) for value in values)


def _order_columns(spec: dict) -> list[str]:
    return list(dict.fromkeys([*spec["key"], "path"]))


def _example(row: dict, spec: dict, failed_rules: list[str], rows: Optional[int] = None) -> dict:
    key = _key_value(row, spec["key"])
    return {
        "key": redact(key) if key is not None else None,
        "failed_rules": list(dict.fromkeys(str(r) for r in failed_rules)),
        "rows": rows,
        "path": redact(row.get("path")),
        "excerpt": _excerpt(row, spec),
    }


def _grouped_quarantine_sql(quarantine: str, spec: dict, literal: str, limit: int) -> str:
    """Quarantine rows grouped by their key (a row without a key is a group of its own): one row
    per group that lists the rule, with ``_all_rules`` (the rules of every row of the group) and
    ``_rows`` (how many rows). The fewest-rules groups first, as the ungrouped query."""
    key = list(spec["key"])
    order = ", ".join(f"{c} NULLS LAST" for c in _order_columns(spec))
    unkeyed = " AND ".join(f"{c} IS NULL" for c in key) or "true"
    group = ", ".join([*key, "_row_text"])
    row_text = _sql("to_json(struct(*))", "to_json(_q)")
    size, distinct, collect = _sql("size", "len"), _sql("array_distinct", "list_distinct"), _sql("collect_list", "list")
    return f"""
        WITH q AS (SELECT *, CASE WHEN {unkeyed} THEN {row_text} END AS _row_text FROM {_t(quarantine)} AS _q),
        g AS (SELECT *,
                     row_number() OVER (PARTITION BY {group} ORDER BY {size}(failed_rules) DESC, {order}) AS _n,
                     count(*) OVER (PARTITION BY {group}) AS _rows,
                     {distinct}(flatten({collect}(failed_rules) OVER (PARTITION BY {group}))) AS _all_rules
              FROM q)
        SELECT * FROM g WHERE _n = 1 AND array_contains(_all_rules, {literal})
        ORDER BY {size}(_all_rules), {order}, _row_text NULLS LAST LIMIT {limit}"""


def _examples(spark, tables: set[str], entry: dict, rule_objects: dict[tuple[str, str], Any]) -> tuple[list[dict], bool]:
    """Up to EXAMPLES_PER_RULE rows that broke the rule, and whether such rows are kept in silver.

    drop / fail rules: rows of the quarantine table listing the rule, those that broke the fewest
    rules first (the most telling). warn rules: rows are kept, so they are found by evaluating the
    rule's constraint on the silver table, then on the quarantine (rows that a drop rule removed too).
    """
    dataset, rule = entry["dataset"], entry["rule"]
    spec = _spec(dataset)
    quarantine = spec["quarantine"]
    order = _order_columns(spec)
    if entry["action"] != "warn":
        if quarantine not in tables:
            return [], False
        literal = ("'" + rule.replace("'", "''") + "'" if _duck()
                   else "'" + rule.replace("\\", "\\\\").replace("'", "\\'") + "'")
        grouped = _safe(None, lambda: _rows(spark, _grouped_quarantine_sql(quarantine, spec, literal, EXAMPLES_PER_RULE)))
        if grouped is not None:
            return [
                _example(r, spec, _in_rule_order(dataset, r.get("_all_rules") or [], rule_objects), int(r.get("_rows") or 1))
                for r in grouped
            ], False
        rows = _safe([], lambda: _rows(spark, f"""
            SELECT * FROM {_t(quarantine)} WHERE array_contains(failed_rules, {literal})
            ORDER BY {_sql("size", "len")}(failed_rules), {", ".join(f"{c} NULLS LAST" for c in order)} LIMIT {EXAMPLES_PER_RULE}"""))
        return [_example(r, spec, r.get("failed_rules") or [], 1) for r in rows], False
    rule_object = rule_objects.get((dataset, rule))
    if rule_object is None:
        return [], True

    def failing_rows(table: str, limit: int) -> list[dict]:
        if _duck():  # the constraint is Spark SQL; one DuckDB cannot parse leaves the examples out
            return _rows(spark, f"""
                SELECT * FROM {_t(table)} WHERE NOT coalesce(({rule_object.constraint}), false)
                ORDER BY {", ".join(f"{c} NULLS LAST" for c in order)} LIMIT {int(limit)}""")
        from pyspark.sql import functions as F

        frame = spark.read.table(f"{engine.DATABASE}.{table}")
        failing = frame.where(~F.coalesce(F.expr(rule_object.constraint), F.lit(False)))
        ordered = failing.orderBy(*[F.col(c).asc_nulls_last() for c in order])
        return [{k: _plain(v) for k, v in r.asDict(recursive=False).items()} for r in ordered.limit(limit).collect()]

    examples: list[dict] = []
    for table in (dataset, quarantine):
        if table in tables and len(examples) < EXAMPLES_PER_RULE:
            for row in _safe([], lambda table=table: failing_rows(table, EXAMPLES_PER_RULE - len(examples))):
                examples.append(_example(row, spec, [*(row.get("failed_rules") or []), rule]))
    return examples, True


def _in_rule_order(dataset: str, names: Iterable[Any], rule_objects: dict[tuple[str, str], Any]) -> list[str]:
    """Rule names in the order of expectations/rules (unknown names last, by name)."""
    order = {name: i for i, name in enumerate(name for d, name in rule_objects if d == dataset)}
    return sorted(dict.fromkeys(str(n) for n in names), key=lambda n: (order.get(n, 10_000), n))


def _worst_rules(spark, tables: set[str], rules: list[dict]) -> list[dict]:
    rule_objects = {(d, r.name): r for d, rs in _load_rules().items() for r in rs}
    failing = [e for e in rules if e["latest"] and e["latest"]["failed"] > 0]
    # Worst = highest failure rate in the latest run, then most rows: a small table's broken rule
    # is not hidden behind a big table's slightly broken one.
    failing.sort(key=lambda e: (-e["latest"]["failure_rate"], -e["latest"]["failed"], e["dataset"], e["rule"]))
    worst = []
    for entry in failing[:WORST_RULES]:
        latest = entry["latest"]
        examples, kept = _examples(spark, tables, entry, rule_objects)
        worst.append({
            "dataset": entry["dataset"], "rule": entry["rule"], "action": entry["action"],
            "description": entry["description"], "date": latest["date"], "failed": latest["failed"],
            "total": latest["passed"] + latest["failed"], "failure_rate": latest["failure_rate"],
            "quarantined": entry["quarantined"], "kept": kept, "examples": examples,
        })
    return worst


def _load_rules() -> dict[str, list]:
    try:
        from file_records.expectations.rules import load_all

        return load_all()
    except Exception:  # noqa: BLE001
        return {}
