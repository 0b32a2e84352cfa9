"""`file-records remediate`: archive the files of a policy-flag export safely, or undo a journal.

The work is the remediation library (file_records.remediation); this command owns its flags and
prints the per-row report. Exit status: 0 every row fine, 1 a row failed or was refused, 2 the
input as a whole is unusable (a UsageError: missing flags, no plan file, bad --path-map, journal
missing or in use).
"""

from __future__ import annotations

import argparse
import sys

import orjson
from rich.console import Console
from rich.markup import escape

from file_records.errors import UsageError
from file_records.remediation import (
    ALREADY_DONE,
    DEFAULT_STUB_MESSAGE,
    DONE,
    FAILED,
    JOURNAL_NAME,
    REFUSED,
    SKIPPED,
    WOULD,
    Report,
    plan_from_csv,
    remediate,
    undo,
)

HELP = "archive the files of an export safely (dry-run unless --apply)"

_COLOURS = {DONE: "green", ALREADY_DONE: "green", WOULD: "cyan", SKIPPED: "yellow", REFUSED: "red", FAILED: "red"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan", help="CSV export of gold_policy_flags (needs path and content_sha256)")
    parser.add_argument("--archive-root", help="directory receiving <sha256>/<name>")
    parser.add_argument("--path-map", action="append", default=[], metavar="PREFIX=LOCAL",
                        help="map a DXR path prefix to a local directory; repeatable; "
                             "'DATASOURCE::PREFIX=LOCAL' limits it to one datasource")
    parser.add_argument("--apply", action="store_true", help="act (default: dry run, nothing is touched)")
    parser.add_argument("--undo", metavar="JOURNAL", help="restore what a journal archived (with --apply)")
    parser.add_argument("--journal", help=f"journal file (default: <archive-root>/{JOURNAL_NAME})")
    parser.add_argument("--allow-unhashed", action="store_true",
                        help="archive rows without content_sha256 (by the hash computed now)")
    parser.add_argument("--stub-message", default=DEFAULT_STUB_MESSAGE, help="first line(s) of each stub file")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, console: Console) -> int:
    if not args.undo:
        missing = [flag for flag, value in (("--plan", args.plan), ("--archive-root", args.archive_root),
                                            ("--path-map", args.path_map)) if not value]
        if missing:
            raise UsageError(f"missing {', '.join(missing)} (or --undo JOURNAL)")
    try:
        if args.undo:
            report = undo(args.undo, apply=args.apply)
        else:
            plan = plan_from_csv(args.plan, args.path_map)
            report = remediate(plan, args.archive_root, apply=args.apply, journal_path=args.journal,
                               stub_message=args.stub_message, allow_unhashed=args.allow_unhashed)
    except OSError as exc:
        # The library reports a row's OSError in that row's result; one that escapes is about the
        # archive root or the journal themselves (cannot be created, not writable).
        where = f" {exc.filename}" if exc.filename else ""
        raise UsageError(f"cannot use{where}: {exc.strerror or exc}") from None
    print_report(report, as_json=args.json)
    return report.exit_code


def print_report(report: Report, as_json: bool = False) -> None:
    """The report is the command's output, so it goes to stdout (as JSON with --json)."""
    if as_json:
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    out = Console(highlight=False, soft_wrap=True)
    for r in report.results:
        colour = _COLOURS.get(r.status, "white")
        out.print(f"row {r.row} [{colour}]{r.status}[/{colour}] {escape(r.path)}: {escape(r.message)}")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "no rows"
    out.print(f"[bold]{report.mode}[/bold]: {summary}")
    if report.dry_run:
        out.print("Dry run: nothing was changed. Add --apply to act.")
    else:
        out.print(f"Journal: {escape(report.journal or '')}")
