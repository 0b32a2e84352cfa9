"""`file-records query`: SQL over the local tables, as a table, CSV or a JSON array of rows.

Read-only: only SELECT, WITH, VALUES, TABLE, SHOW, DESCRIBE and EXPLAIN run (file_records.sql_guard,
checked before Spark starts and again on the parsed plan). CSV cells are formula-safe
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", help='e.g. "SELECT * FROM gold_duplicate_files ORDER BY reclaimable_bytes DESC"')
    add_state_dir(parser)
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--limit", type=int, default=None, help="at most this many rows (table format defaults to 1000)")


def run(args: argparse.Namespace, console: Console) -> int:
    # Read-only, checked before the state lock is taken or a JVM starts (see file_records.sql_guard).
    check_read_only(args.sql)
    if args.limit is not None and args.limit < 0:
        raise UsageError(f"--limit must be 0 or more, got {args.limit}")

    from pyspark.errors import AnalysisException, ParseException, PySparkException

    from file_records.local.runner import reading_session

    with reading_session(args.state_dir) as spark:
        check_plan(spark, args.sql)  # defence in depth: the parsed plan, before spark.sql() runs anything
        try:
            frame = spark.sql(args.sql)
            limit = args.limit if args.limit is not None else (1000 if args.format == "table" else None)
            if limit is not None:
                frame = frame.limit(limit)
            columns = frame.columns
            rows = [[_plain(value) for value in row] for row in frame.collect()]
        except (AnalysisException, ParseException) as exc:
            raise UsageError(f"the query failed: {_reason(exc)}") from None
        except PySparkException as exc:  # a runtime error (division by zero in ANSI mode, a cast...)
            raise FileRecordsError(f"the query failed: {_reason(exc)}") from None

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
    return 0
