"""`file-records export TABLE`: any table of the local catalog to CSV or JSON.

The writing, filters (--policy/--action/--owner) and formula neutralisation are in
policies/export.py; this command owns the flags, the reading, the output and two table-specific
rules. The tables are read without Spark: DuckDB over their committed parquet files
(file_records.local.tables), under the state directory's lock.
The rules: gold_user_inventory exports the latest scan with the predecessor's seven columns first, so
consumers of the old CSV read it unchanged (`--all-scans` exports every scan).

`--for-review` turns a gold_policy_flags export into a disposition review sheet (empty `decision`,
`reviewer`, `comment` columns for the records manager; `remediate --plan SHEET` acts on approved
rows only). The pseudo-table `disposition_log` (or `disposition-log`) is the proof-of-disposition log
of `--log-dir` (default FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR), read directly, without Spark.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape

from file_records.commands.run import add_state_dir
from file_records.errors import UsageError
from file_records.local.tables import quote
from file_records.policies.export import FLAGS_TABLE, FORMATS, SqlFrame

HELP = "write a table (gold_policy_flags, gold_user_inventory, ...) to CSV or JSON"

INVENTORY_TABLE = "gold_user_inventory"
DISPOSITION_LOG = "disposition_log"


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
    parser.add_argument("--for-review", action="store_true",
                        help=f"{FLAGS_TABLE}: a review sheet with empty decision (approve/reject/defer), reviewer "
                             "and comment columns to fill in; `remediate --plan SHEET` acts on approved rows only")
    parser.add_argument("--log-dir", type=Path, metavar="DIR",
                        help=f"{DISPOSITION_LOG}: the proof-of-disposition log folder "
                             "(default: FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR)")


def _split(values: Optional[list[str]]) -> Optional[list[str]]:
    if not values:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def _unknown(kind: str, given: list[str], known: list[str]) -> None:
    known_folded = {k.casefold() for k in known}
    unknown = [g for g in given if g.casefold() not in known_folded]
    if unknown:
        kinds = {"policy": "policies", "action": "actions"}[kind] if len(unknown) > 1 else kind
        names = ", ".join(repr(u) for u in unknown)
        raise UsageError(f"unknown {kinds} {names}; the catalogue has: {', '.join(known)}")


def check_filters(policies: Optional[list[str]], actions: Optional[list[str]]) -> None:
    """``--policy`` values must name policies of the catalogue (FILE_RECORDS_POLICIES_CATALOGUE, else
    the packaged one) and ``--action`` values its actions: a typo is an error, not an empty export."""
    from file_records.policies.model import ACTIONS

    if actions:
        _unknown("action", actions, list(ACTIONS))
    if policies:
        from file_records.policies.model import load_catalogue
        from file_records.policies.options import PolicyOptions
        from file_records.settings import load

        catalogue = load_catalogue(load(PolicyOptions).catalogue)
        _unknown("policy", policies, catalogue.names)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _inventory_view(frame: SqlFrame, all_scans: bool) -> SqlFrame:
    """The inventory with the predecessor's columns first, sorted by username; the latest scan only
    unless ``all_scans``."""
    from file_records.pipelines.logic.workspace import PREDECESSOR_COLUMNS

    if not all_scans:
        frame = frame.where(f"scan_id = (SELECT max(scan_id) FROM ({frame.sql}) AS _all)", *frame.params)
    rest = [name for name in frame.columns if name not in PREDECESSOR_COLUMNS]
    select = ", ".join(quote(name) for name in (*PREDECESSOR_COLUMNS, *rest))
    ordered = SqlFrame(frame.con, f"SELECT {select} FROM ({frame.sql}) AS _inventory", frame.params)
    ordered.columns  # noqa: B018 - a missing predecessor column fails here
    return ordered.order_by("username")


def _is_disposition_log(table: str) -> bool:
    return table.strip().replace("-", "_").casefold() == DISPOSITION_LOG


def _export_disposition_log(args: argparse.Namespace, console: Console) -> int:
    from file_records.policies.options import PolicyOptions
    from file_records.remediation.proof import export_disposition_log
    from file_records.settings import load

    given = [flag for flag, value in (("--policy", args.policy), ("--action", args.action), ("--owner", args.owner),
                                      ("--all-scans", args.all_scans), ("--files-table", args.files_table),
                                      ("--for-review", args.for_review)) if value]
    if given:
        raise UsageError(f"{', '.join(given)} do(es) not apply to {DISPOSITION_LOG}; it takes --log-dir, "
                         "--format and --out")
    log_dir = args.log_dir or load(PolicyOptions).disposition_log_dir
    if log_dir is None:
        raise UsageError("which log? give --log-dir DIR (remediate writes to <archive-root>/disposition-log "
                         "unless FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR is set)")
    if not Path(log_dir).is_dir():
        raise UsageError(f"--log-dir {log_dir} is not a folder")
    try:
        result = export_disposition_log(log_dir, sys.stdout if args.out == "-" else args.out, args.format)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    _print_result(result, console)
    return 0


def _print_result(result, console: Console) -> None:
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if result.out is not None:
        console.print(f"{result.rows} row(s) written to {escape(result.out)}", highlight=False)


def run(args: argparse.Namespace, console: Console) -> int:
    if _is_disposition_log(args.table):
        return _export_disposition_log(args, console)
    if args.log_dir is not None:
        raise UsageError(f"--log-dir is for `export {DISPOSITION_LOG}`")
    if args.for_review and args.table.rsplit(".", 1)[-1].strip("`") != FLAGS_TABLE:
        raise UsageError(f"--for-review makes a review sheet of {FLAGS_TABLE}, not {args.table}")

    import duckdb

    from file_records.local.tables import open_tables, tables_in
    from file_records.policies.export import export_table

    policies, actions = _split(args.policy), _split(args.action)
    check_filters(policies, actions)  # before the state lock is taken

    state_dir = args.state_dir
    with open_tables(state_dir) as con:
        known = tables_in(con)

        def read_table(name: str) -> SqlFrame:
            short = name.rsplit(".", 1)[-1].strip("`")
            if short not in known:
                raise UsageError(f"no table {name!r} in {state_dir}; it has: {', '.join(sorted(known))}")
            frame = SqlFrame.table(con, short)
            return _inventory_view(frame, args.all_scans) if short == INVENTORY_TABLE else frame

        try:
            result = export_table(
                read_table, args.table, sys.stdout if args.out == "-" else args.out, args.format,
                policy=policies, action=actions, owner=_split(args.owner),
                files_table=args.files_table, plan_columns=not args.no_plan_columns,
                for_review=args.for_review,
            )
        except duckdb.Error as exc:  # a name the user gave: a table, or a filter's column
            raise UsageError(_first_line(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None

    _print_result(result, console)
    if args.for_review and result.out is not None:
        console.print("Fill in decision (approve / reject / defer), reviewer and comment, then "
                      f"`file-records remediate --plan {escape(result.out)} ...` (dry run first).", highlight=False)
    return 0
