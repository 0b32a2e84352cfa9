"""How the report's queries run: a Spark session, or DuckDB over the committed table files.

The section queries in :mod:`file_records.report.data` are Spark SQL; :func:`_sql`,
:func:`_count_distinct` and :func:`_t` spell the few constructs DuckDB writes differently, and
:func:`_rows` turns either engine's rows into plain, JSON-friendly values (UTC ISO timestamps).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date, datetime, timezone
from typing import Any, Callable

from file_records.local.values import plain

DATABASE = "default"

# --- plain values ----------------------------------------------------------------------------


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        # pyspark returns timestamps as naive datetimes in the Python process's local time zone.
        try:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            value = value.replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _plain(value: Any) -> Any:
    return plain(value, _scalar)


# --- the engine: a Spark session, or DuckDB over the committed table files ----------------------


class DuckTables:
    """A DuckDB connection from :func:`file_records.local.tables.open_tables`, with one view per
    table; :func:`collect_report_data` takes one where it takes a Spark session. The queries below
    are Spark SQL; the few constructs DuckDB spells differently go through :func:`_sql`."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def rows(self, sql: str) -> list[dict]:
        cursor = self.con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [{k: plain(v, _duck_scalar) for k, v in zip(names, row, strict=True)} for row in cursor.fetchall()]

    def tables(self) -> set[str]:
        from file_records.local.tables import tables_in

        return tables_in(self.con)


_ON_DUCKDB: ContextVar[bool] = ContextVar("report_on_duckdb", default=False)


def _duck() -> bool:
    return _ON_DUCKDB.get()


def _sql(spark_text: str, duckdb_text: str) -> str:
    return duckdb_text if _duck() else spark_text


def _count_distinct(*columns: str) -> str:
    """Spark's ``count(DISTINCT a, b)``: rows where any of them is null are not counted."""
    if not _duck() or len(columns) == 1:
        return f"count(DISTINCT {', '.join(columns)})"
    present = " AND ".join(f"({c}) IS NOT NULL" for c in columns)
    return f"count(DISTINCT CASE WHEN {present} THEN row({', '.join(columns)}) END)"


def _duck_scalar(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)  # DuckDB's values are UTC already (Spark's are local)
    return _scalar(value)


def _rows(spark, sql: str) -> list[dict]:
    if isinstance(spark, DuckTables):
        return spark.rows(sql)
    return [{k: _plain(v) for k, v in row.asDict(recursive=False).items()} for row in spark.sql(sql).collect()]


def _one(spark, sql: str) -> dict:
    rows = _rows(spark, sql)
    return rows[0] if rows else {}


def _t(name: str) -> str:
    if _duck():
        return '"' + name.replace('"', '""') + '"'
    return f"`{DATABASE}`.`{name}`"


_NO_DATABASE = re.compile(r"SCHEMA_NOT_FOUND|NoSuchDatabase|NoSuchNamespace|Database .* not found", re.IGNORECASE)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else ""
    return f"{type(exc).__name__}: {line}"[:400] if line else type(exc).__name__


def _present_tables(spark) -> set[str]:
    """The tables of the catalog. Only a catalog without the database is "no tables yet"; a
    catalog that cannot be read (locked metastore, broken state) is an error with its reason."""
    from file_records.errors import FileRecordsError

    if isinstance(spark, DuckTables):
        return spark.tables()
    try:
        return {row.tableName for row in spark.sql(f"SHOW TABLES IN `{DATABASE}`").collect() if not row.isTemporary}
    except Exception as exc:
        if _NO_DATABASE.search(str(exc)):
            return set()
        raise FileRecordsError(f"the tables could not be read: {_first_line(exc)}") from exc


def _safe(default: Any, build: Callable[[], Any]) -> Any:
    """A section that cannot be read (a table of an older layout, a half-written state) is left
    out rather than failing the whole report."""
    try:
        return build()
    except Exception as exc:
        if _duck():
            import duckdb

            if isinstance(exc, duckdb.Error):
                return default
            raise
        from pyspark.errors import PySparkException

        if isinstance(exc, PySparkException):
            return default
        raise


