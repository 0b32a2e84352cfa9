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

    emulate = commands.add_parser("emulate", help="serve the Data X-Ray API emulator on 127.0.0.1", add_help=False)
    emulate.add_argument("emulator_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            from file_records.commands.run import run_command

            return run_command(args, console)
        if args.command == "query":
            from file_records.commands.query import query_command

            return query_command(args, console)
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


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
