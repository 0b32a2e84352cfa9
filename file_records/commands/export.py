"""`file-records export TABLE`: any table of the local catalog to CSV or JSON.

The writing, filters (--policy/--action/--owner) and formula neutralisation are in
policies/export.py; this command owns the flags, the Spark session, the output and two table-specific
rules: gold_user_inventory exports the latest scan with the predecessor's seven columns first, so
consumers of the old CSV read it unchanged (`--all-scans` exports every scan).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from rich.console import Console
from rich.markup import escape

from file_records.commands.run import add_state_dir
from file_records.errors import UsageError
from file_records.policies.export import FORMATS

HELP = "write a table (gold_policy_flags, gold_user_inventory, ...) to CSV or JSON"

INVENTORY_TABLE = "gold_user_inventory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", metavar="TABLE", help="table to export, e.g. gold_policy_flags")
    add_state_dir(parser)
    parser.add_argument("--all-scans", action="store_true",
                        help="gold_user_inventory: every scan, not only the latest")
    parser.add_argument("--policy", action="append", help="policy name(s); repeatable or comma-separated")
    parser.add_argument("--action", action="append", help="action(s): archive, review, delete, keep, hold")
    parser.add_argument("--owner", action="append", help="owner(s), case-insensitive")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="default: csv")
    parser.add_argument("--out", required=True, metavar="FILE", help="output file ('-' for stdout)")
    parser.add_argument("--files-table", metavar="TABLE",
                        help="table with content hashes (default: silver_all_files next to TABLE)")
    parser.add_argument("--no-plan-columns", action="store_true",
                        help="do not add content_sha256/datasource_name/file_name (remediation needs them)")


def _split(values: Optional[list[str]]) -> Optional[list[str]]:
    if not values:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _inventory_view(frame, all_scans: bool):
    from pyspark.sql import functions as F

    from file_records.pipelines.logic.workspace import PREDECESSOR_COLUMNS

    if not all_scans:
        newest = frame.agg(F.max("scan_id").alias("_newest"))
        frame = frame.join(newest, F.col("scan_id") == F.col("_newest"), "left_semi")
    rest = [name for name in frame.columns if name not in PREDECESSOR_COLUMNS]
    return frame.select(*PREDECESSOR_COLUMNS, *rest).orderBy("username")


def run(args: argparse.Namespace, console: Console) -> int:
    from pyspark.errors import AnalysisException

    from file_records.local.runner import reading_session
    from file_records.policies.export import export_table

    state_dir = args.state_dir
    with reading_session(state_dir) as spark:
        known = {row.tableName for row in spark.sql("SHOW TABLES IN default").collect()}

        def read_table(name: str):
            short = name.rsplit(".", 1)[-1].strip("`")
            if short not in known:
                raise UsageError(f"no table {name!r} in {state_dir}; it has: {', '.join(sorted(known))}")
            frame = spark.read.table(name)
            return _inventory_view(frame, args.all_scans) if short == INVENTORY_TABLE else frame

        try:
            result = export_table(
                read_table, args.table, sys.stdout if args.out == "-" else args.out, args.format,
                policy=_split(args.policy), action=_split(args.action), owner=_split(args.owner),
                files_table=args.files_table, plan_columns=not args.no_plan_columns,
            )
        except AnalysisException as exc:  # a name the user gave: a table, or a filter's column
            raise UsageError(_first_line(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None

    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if result.out is not None:
        console.print(f"{result.rows} row(s) written to {escape(result.out)}", highlight=False)
    return 0
