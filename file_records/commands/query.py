"""`file-records query`: SQL over the local tables, as a table, CSV or a JSON array of rows."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from file_records.errors import UsageError
from file_records.values import plain as _plain


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=str).decode()
    return str(value)


def query_command(args: argparse.Namespace, console: Console) -> int:
    from file_records.local.runner import state_lock
    from file_records.local.spark import StatePaths, classic_session
    from file_records.settings import LocalSparkSettings

    paths = StatePaths(args.state_dir.resolve())
    if not paths.exists():
        raise UsageError(f"no pipeline state in {args.state_dir}: run `file-records run` (or `run --demo`) first")
    with state_lock(paths):
        spark = classic_session(paths, LocalSparkSettings(spark_master="local[1]"))
        try:
            from pyspark.errors import AnalysisException, ParseException

            try:
                frame = spark.sql(args.sql)
                limit = args.limit if args.limit is not None else (1000 if args.format == "table" else None)
                if limit is not None:
                    frame = frame.limit(limit)
                columns = frame.columns
                rows = [[_plain(value) for value in row] for row in frame.collect()]
            except (AnalysisException, ParseException) as exc:
                raise UsageError(f"the query failed: {str(exc).splitlines()[0]}") from None
        finally:
            spark.stop()

    if args.format == "json":
        records = [dict(zip(columns, row)) for row in rows]
        sys.stdout.write(orjson.dumps(records, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_cell(value) for value in row] for row in rows])
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*[_cell(value) for value in row])
        Console().print(table)
        console.print(f"{len(rows)} row(s)")
    return 0
