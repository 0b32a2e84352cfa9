"""`file-records query`: SQL over the local tables, as a table, CSV or a JSON array of rows.

Two engines answer (``--engine``):

- ``duckdb``: DuckDB over the tables' committed parquet files (file_records.local.tables), in about
  a second; DuckDB's SQL dialect.
- ``spark``: a local Spark session and Spark SQL, as the pipeline computes (tens of seconds).
- ``auto`` (the default): DuckDB when it can run the statement, else Spark SQL, so any statement
  that works on Databricks works here too; SHOW and DESCRIBE always go to Spark, whose output
  columns (``tableName``, ``col_name``) scripts rely on.

One line on stderr says which engine answered; stdout holds only the result.

Read-only: only SELECT, WITH, VALUES, TABLE, SHOW, DESCRIBE and EXPLAIN run (file_records.sql_guard,
checked before any engine starts; then Spark checks the parsed plan, DuckDB the parsed statement's
type, and DuckDB reads no file outside the warehouse and writes none). CSV cells are formula-safe
(file_records.spreadsheet.neutralise_cell)."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from file_records.commands.run import add_state_dir
from file_records.errors import FileRecordsError, UsageError
from file_records.local.values import plain as _plain
from file_records.spreadsheet import neutralise_cell
from file_records.sql_guard import check_plan, check_read_only


def _reason(exc: BaseException) -> str:
    """The first non-empty line of Spark's message (a ParseException starts with a blank line),
    else the exception's class name: a failed query never ends in "the query failed: "."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=str).decode()
    return str(value)


HELP = "run SQL over the local tables"
ENGINES = ("auto", "duckdb", "spark")
SPARK_ONLY = ("SHOW", "DESCRIBE", "DESC")
SPARK_NOTE = "(answered by Spark SQL in a local Spark session)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", help='e.g. "SELECT * FROM gold_duplicate_files ORDER BY reclaimable_bytes DESC"')
    add_state_dir(parser)
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--limit", type=int, default=None, help="at most this many rows (table format defaults to 1000)")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto (default): DuckDB when it can run the statement, else Spark; duckdb: DuckDB SQL "
                             "over the committed table files, in about a second; spark: Spark SQL in a local "
                             "Spark session (tens of seconds)")


def run(args: argparse.Namespace, console: Console) -> int:
    # Read-only, checked before the state lock is taken or any engine starts (see file_records.sql_guard).
    check_read_only(args.sql)
    if args.limit is not None and args.limit < 0:
        raise UsageError(f"--limit must be 0 or more, got {args.limit}")
    limit = args.limit if args.limit is not None else (1000 if args.format == "table" else None)
    engine = getattr(args, "engine", "auto")
    if engine == "auto" and _first_keyword(args.sql) in SPARK_ONLY:
        engine = "spark"
    if engine == "spark":
        columns, rows = _run_spark(args, limit)
        note = SPARK_NOTE
    else:
        from file_records.local.tables import ENGINE_NOTE

        try:
            columns, rows = _run_duckdb(args, limit)
            note = ENGINE_NOTE
        except _NotDuckDb as exc:
            if engine == "duckdb":
                raise UsageError(f"the query failed: {exc}") from None
            columns, rows = _run_spark(args, limit)
            note = f"(DuckDB cannot run this statement: {exc}; answered by Spark SQL in a local Spark session)"
    _write(args, console, columns, rows)
    console.print(note, highlight=False, soft_wrap=True)
    return 0


class _NotDuckDb(Exception):
    """DuckDB could not run the statement (Spark SQL it does not speak, or an error of its own)."""


def _first_keyword(sql: str) -> str:
    words = sql.replace("(", " ").split()
    return words[0].upper() if words else ""


def _check_statement(con, sql: str) -> None:
    """Defence in depth behind check_read_only: DuckDB's own parser must see one query or EXPLAIN."""
    import duckdb

    from file_records.sql_guard import ReadOnlyError

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise _NotDuckDb(_reason(exc)) from None
    kinds = [getattr(statement.type, "name", str(statement.type)) for statement in statements]
    if len(kinds) != 1 or kinds[0].rsplit(".", 1)[-1] not in ("SELECT", "EXPLAIN"):
        raise ReadOnlyError(f"query is read-only: DuckDB parses this as {', '.join(kinds) or 'nothing'}; "
                            "only reads run (nothing was changed)")


def _run_duckdb(args: argparse.Namespace, limit) -> tuple[list[str], list[list[Any]]]:
    import duckdb

    from file_records.local.tables import open_tables

    with open_tables(args.state_dir) as con:
        _check_statement(con, args.sql)
        try:
            cursor = con.execute(args.sql)
            if cursor.description is None:
                return [], []
            columns = [column[0] for column in cursor.description]
            found = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
            rows = [[_plain(value) for value in row] for row in found]
        except duckdb.Error as exc:
            raise _NotDuckDb(_reason(exc)) from None
    return columns, rows


def _run_spark(args: argparse.Namespace, limit) -> tuple[list[str], list[list[Any]]]:
    from pyspark.errors import AnalysisException, ParseException, PySparkException

    from file_records.local.runner import reading_session

    with reading_session(args.state_dir) as spark:
        check_plan(spark, args.sql)  # defence in depth: the parsed plan, before spark.sql() runs anything
        try:
            frame = spark.sql(args.sql)
            if limit is not None:
                frame = frame.limit(limit)
            columns = frame.columns
            rows = [[_plain(value) for value in row] for row in frame.collect()]
        except (AnalysisException, ParseException) as exc:
            raise UsageError(f"the query failed: {_reason(exc)}") from None
        except PySparkException as exc:  # a runtime error (division by zero in ANSI mode, a cast...)
            raise FileRecordsError(f"the query failed: {_reason(exc)}") from None
    return columns, rows


def _write(args: argparse.Namespace, console: Console, columns: list[str], rows: list[list[Any]]) -> None:
    if args.format == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(orjson.dumps(records, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow([neutralise_cell(name) for name in columns])
        writer.writerows([[neutralise_cell(_cell(value)) for value in row] for row in rows])
    else:
        table = Table(*[escape(name) for name in columns])
        for row in rows:
            table.add_row(*[escape(_cell(value)) for value in row])  # a cell is data, not rich markup
        Console().print(table)
        console.print(f"{len(rows)} row(s)")
