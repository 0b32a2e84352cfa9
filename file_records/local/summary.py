"""The few lines that end a run: what it brought, in the records manager's terms.

Which sources took a new snapshot (and what changed in it), how many files the policies flag and
how that moved, how many rows the data-quality rules held back. Read from the run's own tables
while its Spark session is still open; a table that is missing (a source that is off, an older
pipeline) just leaves its line out.
"""

from __future__ import annotations

from typing import Mapping, Optional

from file_records.local.freshness import BRONZE


def _rows(spark, sql: str) -> list:
    try:
        return spark.sql(sql).collect()
    except Exception:  # noqa: BLE001 - a table this pipeline does not have: no line for it
        return []


def _signed(value: Optional[int]) -> str:
    return "±0" if not value else f"{value:+,}"


def summary_lines(spark, counts: Mapping[str, int], previous_counts: Mapping[str, int]) -> list[str]:
    lines = []
    changes = {row["source_system"]: row for row in _rows(spark, """
        SELECT source_system, snapshot_id, files_total, files_added, files_removed, files_changed
        FROM (SELECT *, row_number() OVER (PARTITION BY source_system ORDER BY snapshot_id DESC) AS _n
              FROM gold_file_changes) WHERE _n = 1""")}
    for source, bronze in BRONZE.items():
        if bronze not in counts:
            continue
        if counts[bronze] == previous_counts.get(bronze):
            lines.append(f"{source}: no new snapshot (not due)")
            continue
        change = changes.get(source)
        if change is None:
            lines.append(f"{source}: new snapshot")
        else:
            lines.append(
                f"{source}: new snapshot {change['snapshot_id']}: {change['files_total']:,} files, "
                f"{change['files_added']:,} added, {change['files_removed']:,} removed, "
                f"{change['files_changed']:,} changed"
            )
    flags = _rows(spark, """
        SELECT sum(files) AS files, sum(files_change) AS change
        FROM gold_policy_summary WHERE detected_on = (SELECT max(detected_on) FROM gold_policy_summary)""")
    if flags and flags[0]["files"] is not None:
        change = flags[0]["change"]
        since = "no earlier run date to compare" if change is None else f"{_signed(change)} since the previous run"
        lines.append(f"policy flags: {flags[0]['files']:,} files ({since})")
    quarantined = sum(count for name, count in counts.items() if name.endswith("_quarantine"))
    if any(name.endswith("_quarantine") for name in counts):
        lines.append(f"quarantined by the data-quality rules: {quarantined:,} rows")
    return lines
