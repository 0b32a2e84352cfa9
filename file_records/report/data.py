"""What the report shows, read from the tables as plain Python data (no Spark types).

Every section tolerates a missing table (a source that is not configured, policies not enabled
yet): its part of the data is then empty or None and the page says so. Queries are aggregations
and small LIMITs, so the report stays quick on a large inventory.

Shape of the result (all values JSON-friendly: str, int, float, bool, None, lists, dicts)::

    {
      "generated_at": "2025-01-02T03:04:05Z",
      "tables": {"silver_file_records": 496, ...},          # row counts of the tables present
      "freshness": [{"source", "table", "label", "latest_id", "taken_at", "ingestion_date",
                     "rows", "items", "runs", "silver_table", "silver_rows"}, ...],
      "headline": {"silver_files": 496, "silver_bytes": ..., "quarantined_files": ..., ...},
      "policies": {"computed": bool,                       # gold_policy_summary / _flags present
                   "table": "gold_policy_summary" | "gold_policy_flags" | None,
                   "detected_on", "previous_detected_on",  # the newest run and the one before
                   "first_run": bool,                      # no run before the newest one
                   "summary": [{"policy", "action", "severity", "description", "enabled",
                                "in_catalogue", "detected_on", "files", "bytes", "owners",
                                "suppressed_files", "files_change", "bytes_change"}, ...]},
                   # EVERY policy of the catalogue in use (0 when it caught nothing), plus any
                   # policy of the table the catalogue no longer has; most files first
      "changes": {"sources": [{"source_system", "label", "snapshots": [{"snapshot_id",
                  "ingestion_date", "files_total", "bytes_total", "files_added", "files_removed",
                  "files_changed", "bytes_added", "bytes_removed"}, ...]}]} | None,   # None: no table yet
      "disposition": {"by_status": {"confirmed": n, "pending": n, "reappeared": n, "restored": n},
                      "total": n, "reappeared": [{"source_system", "file_id", "path", "policy",
                      "reviewer", "archived_at", "archive_location", "checked_snapshot_id",
                      "checked_at"}, ...]} | None,                                 # None: no table yet
      "duplicates": {"top": [{"keeper_path", "copies", "total_bytes", "reclaimable_bytes"}, ...]},
      "owners": {"top": [{"owner", "files", "bytes", "flagged_files"}, ...], "unowned_files": n} | None,
      "users": {"scan_id", "scan_time", "by_status": {"success": n, ...}, "with_errors": [...]},
      "rules": [{"dataset", "rule", "action", "description",
                 "series": [{"date", "passed", "failed", "failure_rate"}, ...],
                 "latest": {...} | None, "quarantined": int | None}, ...],
      "worst_rules": [{"dataset", "rule", "action", "description", "failed", "total",
                       "failure_rate", "date", "quarantined", "kept": bool,
                       "examples": [{"key", "failed_rules", "rows", "path", "excerpt"}, ...]}, ...],
                       # key: the row's key columns (file_records.datasets), joined with ':'.
                       # A quarantined example stands for every quarantine row of its key:
                       # failed_rules is the union of their rules, rows how many there are.
                       # The page lists each example row once, with all its rules.
    }

Every catalogue policy comes from the catalogue in use (``FILE_RECORDS_POLICIES_CATALOGUE``, else the
packaged one) unless the caller passes the policies.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from file_records import datasets as registry
from file_records.report import engine
from file_records.report.engine import (  # the helpers every section query goes through
    _ON_DUCKDB,
    DuckTables,
    _count_distinct,
    _duck,
    _one,
    _present_tables,
    _rows,
    _safe,
    _t,
)
from file_records.report.examples import EXCERPT_CHARS, _load_rules, _quarantine_counts, _spec, _worst_rules
from file_records.report.redaction import redact

MAX_DATES = 60

# --- sections --------------------------------------------------------------------------------


def _table_counts(spark, tables: Iterable[str]) -> dict[str, int]:
    names = sorted(tables)
    if not names:
        return {}
    union = " UNION ALL ".join(f"SELECT '{name}' AS name, count(*) AS n FROM {_t(name)}" for name in names)
    together = _safe(None, lambda: _rows(spark, union))  # one job instead of one per table
    if together is not None:
        found = {row["name"]: int(row["n"]) for row in together}
        return {name: found[name] for name in names if name in found}
    counts = {}
    for name in names:
        count = _safe(None, lambda name=name: _one(spark, f"SELECT count(*) AS n FROM {_t(name)}").get("n")
                      if _duck() else spark.read.table(f"{engine.DATABASE}.{name}").count())
        if count is not None:
            counts[name] = int(count)
    return counts


def _freshness(spark, tables: set[str], counts: dict[str, int]) -> list[dict]:
    sources = []
    for source in registry.SOURCES.values():
        if source.bronze not in tables:
            continue
        bronze, run = _t(source.bronze), source.run_column
        latest_sql = f"""
            SELECT {run} AS latest_id, max(ingested_at) AS taken_at, max(ingestion_date) AS ingestion_date,
                   count(*) AS rows, count(CASE WHEN record_type = '{source.item_record_type}' THEN 1 END) AS items
            FROM {bronze} GROUP BY {run} ORDER BY {run} DESC LIMIT 1"""
        latest = _safe({}, lambda sql=latest_sql: _one(spark, sql))
        runs = _safe({}, lambda sql=f"SELECT count(DISTINCT {run}) AS runs FROM {bronze}": _one(spark, sql))
        sources.append({
            "source": source.name, "label": source.label, "table": source.bronze, "unit": source.run_unit,
            **{k: None for k in ("latest_id", "taken_at", "ingestion_date", "rows", "items")}, **latest,
            "runs": runs.get("runs", 0),
            "silver_table": source.silver, "silver_rows": counts.get(source.silver),
        })
    return sources


def _headline(spark, tables: set[str], counts: dict[str, int]) -> dict[str, Any]:
    h: dict[str, Any] = {}
    files, workspace = registry.SILVER_FILE_RECORDS, registry.SILVER_WORKSPACE_FILES
    if files.name in tables:
        row = _safe({}, lambda: _one(spark, f"SELECT count(*) AS n, sum(size) AS bytes FROM {_t(files.name)}"))
        h["silver_files"] = row.get("n")
        h["silver_bytes"] = row.get("bytes") or 0 if row else None
    if files.quarantine in tables:
        h["quarantined_files"] = counts.get(files.quarantine)
    if "gold_duplicate_files" in tables:
        row = _safe({}, lambda: _one(spark, f"""
            SELECT count(*) AS groups, sum(copies) AS copies, sum(total_bytes) AS total_bytes,
                   sum(reclaimable_bytes) AS reclaimable FROM {_t('gold_duplicate_files')}"""))
        h["duplicate_groups"] = row.get("groups")
        h["duplicate_copies"] = row.get("copies") or 0 if row else None
        h["reclaimable_bytes"] = row.get("reclaimable") or 0 if row else None
    if workspace.name in tables:
        row = _safe({}, lambda: _one(spark, f"SELECT count(*) AS n, sum(size) AS bytes FROM {_t(workspace.name)}"))
        h["workspace_files"] = row.get("n")
        h["workspace_bytes"] = row.get("bytes") or 0 if row else None
    if workspace.quarantine in tables:
        h["workspace_quarantined"] = counts.get(workspace.quarantine)
    if "gold_user_inventory" in tables:
        row = _safe({}, lambda: _one(spark, f"""
            WITH latest AS (SELECT * FROM {_t('gold_user_inventory')}
                            WHERE scan_id = (SELECT max(scan_id) FROM {_t('gold_user_inventory')}))
            SELECT count(DISTINCT username) AS users,
                   count(DISTINCT CASE WHEN status = 'error' THEN username END) AS users_with_errors,
                   count(DISTINCT CASE WHEN status = 'partial' THEN username END) AS users_partial
            FROM latest"""))
        h["users"] = row.get("users")
        h["users_with_errors"] = row.get("users_with_errors")
        h["users_partial"] = row.get("users_partial")
    if "gold_policy_flags" in tables:
        row = _safe({}, lambda: _one(spark, f"""
            SELECT count(*) AS flags, {_count_distinct("source_system", "file_id")} AS files,
                   count(DISTINCT policy) AS policies
            FROM {_t('gold_policy_flags')}"""))
        h["policy_flags"] = row.get("flags")
        h["policy_flagged_files"] = row.get("files")
        h["policies_triggered"] = row.get("policies")
        held = _safe({}, lambda: _one(spark, f"""
            SELECT {_count_distinct("source_system", "file_id")} AS files FROM {_t('gold_policy_flags')}
            WHERE suppressed_by IS NOT NULL"""))
        if held:
            h["policy_held_files"] = held.get("files")
    if "gold_disposition_status" in tables:
        row = _safe({}, lambda: _one(spark, f"""
            SELECT count(*) AS archived,
                   count(CASE WHEN status = 'reappeared' AND restored_at IS NULL THEN 1 END) AS reappeared
            FROM {_t('gold_disposition_status')}"""))
        if row:
            h["archived_files"] = row.get("archived")
            h["reappeared_files"] = row.get("reappeared")
    return h


def _rules(spark, tables: set[str]) -> list[dict]:
    if "gold_expectation_metrics" not in tables:
        return []
    rows = _safe([], lambda: _rows(spark, f"""
        SELECT dataset, rule, action, ingestion_date, passed, failed, failure_rate
        FROM {_t('gold_expectation_metrics')} ORDER BY dataset, rule, ingestion_date"""))
    rules_by_file = _load_rules()
    order = {(d, r.name): i for d, rules in rules_by_file.items() for i, r in enumerate(rules)}
    described = {(d, r.name): r.description for d, rules in rules_by_file.items() for r in rules}
    grouped: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["dataset"], row["rule"])
        entry = grouped.setdefault(key, {
            "dataset": row["dataset"], "rule": row["rule"], "action": row["action"],
            "description": described.get(key), "series": [],
        })
        entry["action"] = row["action"]  # the newest date's action wins
        entry["series"].append({
            "date": row["ingestion_date"], "passed": int(row["passed"] or 0), "failed": int(row["failed"] or 0),
            "failure_rate": float(row["failure_rate"] or 0.0),
        })
    result = []
    for entry in grouped.values():
        entry["series"] = entry["series"][-MAX_DATES:]
        entry["latest"] = entry["series"][-1] if entry["series"] else None
        entry["quarantined"] = None
        result.append(entry)
    result.sort(key=lambda e: (e["dataset"], order.get((e["dataset"], e["rule"]), 10_000), e["rule"]))
    return result


def _duplicates(spark, tables: set[str]) -> Optional[dict]:
    if "gold_duplicate_files" not in tables:
        return None
    top = _safe([], lambda: _rows(spark, f"""
        SELECT keeper_path, copies, total_bytes, reclaimable_bytes FROM {_t('gold_duplicate_files')}
        ORDER BY reclaimable_bytes DESC NULLS LAST, content_sha256 LIMIT 5"""))
    for row in top:
        row["keeper_path"] = redact(row.get("keeper_path"))
    return {"top": top}


def _users(spark, tables: set[str]) -> Optional[dict]:
    if "gold_user_inventory" not in tables:
        return None
    latest = f"(SELECT max(scan_id) FROM {_t('gold_user_inventory')})"
    by_status = _safe([], lambda: _rows(spark, f"""
        SELECT status, count(*) AS n, max(scan_id) AS scan_id, max(scan_time) AS scan_time
        FROM {_t('gold_user_inventory')} WHERE scan_id = {latest} GROUP BY status ORDER BY status"""))
    errors = _safe([], lambda: _rows(spark, f"""
        SELECT username, status, error FROM {_t('gold_user_inventory')}
        WHERE scan_id = {latest} AND status IN ('error', 'partial') ORDER BY status, username LIMIT 10"""))
    for row in errors:
        row["username"] = redact(row.get("username"))
        error = redact(row.get("error"))
        row["error"] = error[:EXCERPT_CHARS] if isinstance(error, str) else error
    return {
        "scan_id": by_status[0]["scan_id"] if by_status else None,
        "scan_time": max((r["scan_time"] for r in by_status if r.get("scan_time")), default=None),
        "by_status": {r["status"]: int(r["n"]) for r in by_status},
        "with_errors": errors,
    }


SEVERITY_RANK = {"critical": 3, "high": 2, "medium": 1, "low": 0}
POLICY_COLUMNS = ("files", "bytes", "owners", "suppressed_files", "files_change", "bytes_change")


def _text(value: Any) -> Any:
    value = getattr(value, "value", value)  # an Enum
    return None if value is None else str(value)


def catalogue_policies(catalogue: Any = None) -> list[dict]:
    """The policies of ``catalogue`` (a Catalogue, or an iterable of Policy objects or dicts) as
    plain dicts; None: the packaged catalogue (the report command passes the one in use). A
    catalogue that cannot be loaded is an error (the pipeline would not run with it either)."""
    if catalogue is None:
        from file_records.policies.model import load_catalogue

        catalogue = load_catalogue(None)
    items = getattr(catalogue, "policies", catalogue)
    result = []
    for item in items:
        get = item.get if isinstance(item, dict) else (lambda name, default=None, item=item: getattr(item, name, default))
        result.append({
            "policy": str(get("name")), "action": _text(get("action")), "severity": _text(get("severity")),
            "description": get("description"), "enabled": bool(get("enabled", True)),
        })
    return result


def _policy_row(base: dict, found: Optional[dict], **extra: Any) -> dict:
    row = {**base, "detected_on": None, **{c: None for c in POLICY_COLUMNS}, **extra}
    if found:
        row.update({k: found.get(k) for k in ("detected_on", *POLICY_COLUMNS) if k in found})
        for k in ("action", "severity"):
            row[k] = row.get(k) or found.get(k)
    return row


def _policies(spark, tables: set[str], catalogue: list[dict]) -> dict:
    """Every catalogue policy with its numbers in the newest run (0 when it caught nothing), and
    the change since the run before (files_change None on the first run)."""
    table = next((t for t in ("gold_policy_summary", "gold_policy_flags") if t in tables), None)
    found: list[dict] = []
    latest = previous = None
    if table == "gold_policy_summary":
        runs = _safe([], lambda: _rows(spark, f"""
            SELECT DISTINCT detected_on FROM {_t(table)} ORDER BY detected_on DESC LIMIT 2"""))
        dates = [r["detected_on"] for r in runs]
        latest, previous = (dates + [None, None])[:2]
        if latest is not None:
            # every column: a table of an older layout (no owners / suppressed_files yet) shows "—" there
            found = _safe([], lambda: _rows(spark, f"""
                SELECT * FROM {_t(table)} WHERE detected_on = (SELECT max(detected_on) FROM {_t(table)})"""))
    elif table == "gold_policy_flags":
        basic = f"""policy, max(action) AS action, max(severity) AS severity, max(detected_on) AS detected_on,
                   {_count_distinct("source_system", "file_id")} AS files, sum(coalesce(size, 0)) AS bytes"""
        suppressed = _count_distinct("CASE WHEN suppressed_by IS NOT NULL THEN source_system END",
                                     "CASE WHEN suppressed_by IS NOT NULL THEN file_id END")
        found = _safe(None, lambda: _rows(spark, f"""
            SELECT {basic}, count(DISTINCT lower(owner)) AS owners,
                   {suppressed} AS suppressed_files
            FROM {_t(table)} GROUP BY policy"""))
        if found is None:  # flags of an older layout
            found = _safe([], lambda: _rows(spark, f"SELECT {basic} FROM {_t(table)} GROUP BY policy"))
        latest = max((r["detected_on"] for r in found if r.get("detected_on")), default=None)
    by_name = {str(r["policy"]): r for r in found}
    with_history = table == "gold_policy_summary"
    known = set(found[0]) if found else {"files", "bytes", "owners", "suppressed_files", "files_change"}
    zero = {c: 0 for c in ("files", "bytes", "owners", "suppressed_files") if c in known}  # not "0" for a missing column
    rows = []
    for index, policy in enumerate(catalogue):
        hit = by_name.pop(policy["policy"], None)
        extra: dict[str, Any] = {"in_catalogue": True, "_index": index}
        if table is not None and policy["enabled"]:
            hit = {**zero, "detected_on": latest, **(hit or {})}
            if with_history and previous is not None and "files_change" in known and hit.get("files_change") is None:
                # no row in the run before: the policy caught nothing then
                hit["files_change"] = int(hit.get("files") or 0)
                hit["bytes_change"] = int(hit.get("bytes") or 0)
        rows.append(_policy_row(policy, hit, **extra))
    for index, (name, hit) in enumerate(sorted(by_name.items()), start=len(rows)):
        base = {"policy": name, "action": hit.get("action"), "severity": hit.get("severity"), "description": None,
                "enabled": True}
        rows.append(_policy_row(base, hit, in_catalogue=False, _index=index))
    if table is not None:  # most files first, then the most severe; not computed: catalogue order
        rows.sort(key=lambda r: (-(r["files"] or 0), -SEVERITY_RANK.get(str(r.get("severity")), -1), r["_index"]))
    for row in rows:
        row.pop("_index")
    return {
        "computed": table is not None, "table": table, "detected_on": latest, "previous_detected_on": previous,
        "first_run": with_history and previous is None, "summary": rows,
    }


CHANGE_SNAPSHOTS = 12
DISPOSITION_STATUSES = ("confirmed", "pending", "reappeared", "restored")
REAPPEARED_LISTED = 25
TOP_OWNERS = 10


def _changes(spark, tables: set[str]) -> Optional[dict]:
    """The newest CHANGE_SNAPSHOTS snapshots of each source in gold_file_changes, oldest first."""
    if "gold_file_changes" not in tables:
        return None
    rows = _safe([], lambda: _rows(spark, f"""
        SELECT source_system, snapshot_id, ingestion_date, files_total, bytes_total, files_added, files_removed,
               files_changed, bytes_added, bytes_removed
        FROM (SELECT *, row_number() OVER (PARTITION BY source_system ORDER BY snapshot_id DESC) AS _n
              FROM {_t('gold_file_changes')})
        WHERE _n <= {CHANGE_SNAPSHOTS} ORDER BY source_system, snapshot_id"""))
    sources: dict[str, dict] = {}
    for row in rows:
        name = str(row.pop("source_system"))
        known = registry.SOURCES.get(name)
        entry = sources.setdefault(name, {"source_system": name, "label": known.label if known else name, "snapshots": []})
        entry["snapshots"].append(row)
    return {"sources": list(sources.values())}


def _disposition(spark, tables: set[str]) -> Optional[dict]:
    """Counts of archived files per status, and the files that reappeared in their source."""
    table = "gold_disposition_status"
    if table not in tables:
        return None
    # A file put back by `remediate --undo` reappears on purpose (restored_at): not an alert.
    shown = "CASE WHEN status = 'reappeared' AND restored_at IS NOT NULL THEN 'restored' ELSE status END"
    counts = _safe([], lambda: _rows(spark, f"SELECT {shown} AS status, count(*) AS n FROM {_t(table)} GROUP BY 1"))
    by_status = {status: 0 for status in DISPOSITION_STATUSES}
    by_status.update({str(r["status"]): int(r["n"]) for r in counts})
    reappeared = _safe([], lambda: _rows(spark, f"""
        SELECT source_system, file_id, path, policy, reviewer, archived_at, archive_location, checked_snapshot_id,
               checked_at
        FROM {_t(table)} WHERE status = 'reappeared' AND restored_at IS NULL
        ORDER BY checked_at DESC NULLS LAST, path, file_id LIMIT {REAPPEARED_LISTED}"""))
    for row in reappeared:
        for column in ("file_id", "path", "reviewer", "archive_location"):
            row[column] = redact(row.get(column))
    return {"by_status": by_status, "total": sum(by_status.values()), "reappeared": reappeared}


def _owners(spark, tables: set[str]) -> Optional[dict]:
    """The owners holding the most bytes (silver_all_files, every source), with their flagged files."""
    if "silver_all_files" not in tables:
        return None
    flagged = "gold_policy_flags" in tables
    join = (f"""LEFT JOIN (SELECT lower(owner) AS owner,
                                  {_count_distinct("source_system", "file_id")} AS flagged_files
                            FROM {_t('gold_policy_flags')} GROUP BY lower(owner)) p ON p.owner = a.owner"""
            if flagged else "")
    top = _safe([], lambda: _rows(spark, f"""
        SELECT a.owner, a.files, a.bytes, {"p.flagged_files" if flagged else "CAST(NULL AS BIGINT)"} AS flagged_files
        FROM (SELECT lower(owner) AS owner, count(*) AS files, sum(coalesce(size, 0)) AS bytes
              FROM {_t('silver_all_files')} WHERE nullif(trim(owner), '') IS NOT NULL GROUP BY lower(owner)) a
        {join}
        ORDER BY a.bytes DESC, a.owner LIMIT {TOP_OWNERS}"""))
    for row in top:
        row["owner"] = redact(row.get("owner"))
        if flagged and row.get("flagged_files") is None:
            row["flagged_files"] = 0
    unowned = _safe({}, lambda: _one(spark, f"""
        SELECT count(*) AS n FROM {_t('silver_all_files')} WHERE nullif(trim(owner), '') IS NULL"""))
    return {"top": top, "unowned_files": unowned.get("n")}


def collect_report_data(spark, now: Optional[datetime] = None, catalogue: Any = None) -> dict:
    """Everything the report shows, as plain Python data (see the module docstring), read through
    ``spark`` (a Spark session) or a DuckDB connection with one view per table
    (:func:`file_records.local.tables.open_tables`; the `report` command's default).

    ``catalogue``: the policies to list (a Catalogue, Policy objects or dicts with name, action,
    severity, description); None: the catalogue in use, as the pipeline loads it."""
    if type(spark).__module__.lstrip("_").split(".")[0] == "duckdb":  # duckdb or _duckdb
        spark = DuckTables(spark)
    token = _ON_DUCKDB.set(isinstance(spark, DuckTables))
    try:
        return _collect(spark, now, catalogue)
    finally:
        _ON_DUCKDB.reset(token)


def _collect(spark, now: Optional[datetime], catalogue: Any) -> dict:
    generated = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    tables = _present_tables(spark)
    policies = catalogue_policies(catalogue)
    counts = _table_counts(spark, tables)
    rules = _rules(spark, tables)
    quarantined = _quarantine_counts(spark, tables)
    for entry in rules:
        if entry["action"] != "warn" and _spec(entry["dataset"])["quarantine"] in tables:
            entry["quarantined"] = quarantined.get((entry["dataset"], entry["rule"]), 0)
    return {
        "generated_at": generated.replace(microsecond=0, tzinfo=None).isoformat() + "Z",
        "tables": counts,
        "freshness": _freshness(spark, tables, counts),
        "headline": _headline(spark, tables, counts),
        "policies": _policies(spark, tables, policies),
        "changes": _changes(spark, tables),
        "disposition": _disposition(spark, tables),
        "duplicates": _duplicates(spark, tables),
        "owners": _owners(spark, tables),
        "users": _users(spark, tables),
        "rules": rules,
        "worst_rules": _worst_rules(spark, tables, rules),
    }
