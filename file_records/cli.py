"""`file-records`: the command line. It parses flags into typed settings and calls the
engine; the work itself lives in connectors/, pipelines/, expectations/ and policies/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from pydantic import ValidationError
from rich.console import Console

from file_records import __version__
from file_records.commands.run import SOURCES
from file_records.errors import UsageError

DEFAULT_STATE_DIR = Path(".file-records")

console = Console(stderr=True, highlight=False)


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="file-records",
        description="Inventory every file you hold and flag what records policy says to do with it.",
    )
    parser.add_argument("--version", action="version", version=f"file-records {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the pipeline on local Spark")
    run.add_argument("--demo", action="store_true", help="start the built-in emulators and run against them")
    run.add_argument("--sources", type=_comma_list, help="comma-separated: dxr,workspace (default: every configured source)")
    run.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="catalog, tables and checkpoints (default ./.file-records)")
    run.add_argument("--full-refresh", type=_comma_list, default=[], metavar="TABLES", help="comma-separated tables to recompute from scratch")
    run.add_argument("--force-snapshot", action="store_true", help="take a new source snapshot even if the minimum interval has not passed")
    run.add_argument("--dry-run", action="store_true", help="validate the pipeline graph without reading or writing data")
    run.add_argument("--dxr-base-url", help="overrides DXR_BASE_URL")
    run.add_argument("--dxr-query", action="append", dest="dxr_queries", metavar="QUERY", help="a DXR query; repeat for several (overrides DXR_QUERY / DXR_QUERIES)")
    run.add_argument("--max-users", type=int, help="workspace source: scan at most this many users (trials)")

    query = commands.add_parser("query", help="run SQL over the local tables")
    query.add_argument("sql", help='e.g. "SELECT * FROM gold_duplicate_files ORDER BY reclaimable_bytes DESC"')
    query.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument("--limit", type=int, default=None, help="at most this many rows (table format defaults to 1000)")

    # `export` and `remediate` parse their own flags (policies/export.py, policies/remediate.py);
    # these entries are for the command list in --help.
    commands.add_parser("export", help="write a table (gold_policy_flags, gold_user_inventory, ...) to CSV or JSON")

    report = commands.add_parser("report", help="write the self-contained HTML data-quality and inventory report")
    report.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    report.add_argument("--out", type=Path, default=None, help="HTML file to write (default: STATE_DIR/report.html)")

    users = commands.add_parser("users", help="export the workspace's users (SCIM) to a CSV")
    users.add_argument("--out", required=True, help="output CSV path")
    users.add_argument("--max-users", type=int, default=None)
    users.add_argument("--plain", action="store_true", help="one user name per line, no header (the predecessor's format)")

    commands.add_parser("remediate", help="archive the files of an export safely (dry-run unless --apply)")

    emulate = commands.add_parser("emulate", help="serve the Data X-Ray API emulator on 127.0.0.1", add_help=False)
    emulate.add_argument("emulator_args", nargs=argparse.REMAINDER)
    return parser


def _export_options(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    own.add_argument("--all-scans", action="store_true")
    return own.parse_known_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("export", "remediate"):
        return _run_passthrough(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            from file_records.commands.run import run_command

            return run_command(args, console)
        if args.command == "query":
            from file_records.commands.query import query_command

            return query_command(args, console)
        if args.command == "report":
            from file_records.commands.report import report_command

            return report_command(args, console)
        if args.command == "users":
            from file_records.commands.users import users_command

            return users_command(args, console)
        if args.command == "emulate":
            from connectors.emulator.dxr_server import main as emulate_main

            return emulate_main(args.emulator_args) or 0
    except UsageError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    except ValidationError as exc:
        console.print(f"[bold red]configuration error:[/] {_describe_validation(exc)}")
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    return 2


def _run_passthrough(command: str, rest: list[str]) -> int:
    try:
        if command == "export":
            from file_records.commands.export import export_command

            if any(flag in rest for flag in ("-h", "--help")):
                from policies.export import build_parser as export_parser

                export_parser().print_help()
                print("  --state-dir DIR       local state (default ./.file-records)\n"
                      "  --all-scans           gold_user_inventory: every scan, not only the latest")
                return 0
            own, rest = _export_options(rest)
            return export_command(rest, own.state_dir, own.all_scans, console)
        from policies.remediate import main as remediate_main

        return remediate_main(rest)
    except UsageError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
