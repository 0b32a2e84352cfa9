"""`file-records remediate`: archive the files of a policy-flag export safely, or undo a journal.

The work is the remediation library (file_records.remediation); this command owns its flags and
prints the report: one line per row acted on (or that would be), refusals grouped by reason (count
and up to three example paths), and the plan's path prefixes no --path-map covers. Exit status: 0
every row fine (a row the plan holds or keeps is refused as expected), 1 a row failed or was
refused unexpectedly, 2 the input as a whole is unusable (a UsageError: missing flags, no plan file,
bad --path-map, journal missing or in use).

Disposition review: a plan with a ``decision`` column (``export --for-review``) acts only on rows
decided ``approve``; the others are reported ``not_approved``. Before acting, the newest
``gold_policy_flags`` of ``--state-dir`` (default ./.file-records when it exists) is read and files
on legal hold now are refused, approved or not; without pipeline state the holds cannot be checked
and ``--apply`` is refused unless ``--no-hold-check`` is given. Every file archived or restored gets
a record in the proof-of-disposition log (file_records.remediation.proof): the folder is
``--disposition-log-dir``, else FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR, else
``<archive-root>/disposition-log`` (for ``--undo`` without ``--archive-root``: next to the journal).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional

import orjson
from rich.console import Console
from rich.markup import escape

from file_records.commands.run import DEFAULT_STATE_DIR
from file_records.errors import UsageError
from file_records.remediation import (
    ALREADY_DONE,
    DEFAULT_STUB_MESSAGE,
    DONE,
    FAILED,
    JOURNAL_NAME,
    LOG_DIR_NAME,
    NOT_APPROVED,
    REFUSED,
    SKIPPED,
    WOULD,
    Holds,
    ProofContext,
    ProofLog,
    Report,
    RowResult,
    plan_from_csv,
    read_holds,
    remediate,
    undo,
    unmapped_prefixes,
)
from file_records.remediation.proof import HOLD_CHECKED, HOLD_SKIPPED

HELP = "archive the files of an export safely (dry-run unless --apply)"

EXAMPLES = 3  # example paths shown per refusal reason
_COLOURS = {DONE: "green", ALREADY_DONE: "green", WOULD: "cyan", SKIPPED: "yellow", REFUSED: "red", FAILED: "red",
            NOT_APPROVED: "yellow"}


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
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="pipeline state whose newest gold_policy_flags says which files are on legal hold "
                             "now (default ./.file-records when it exists)")
    parser.add_argument("--no-hold-check", action="store_true",
                        help="apply without checking legal holds against the newest flags (not recommended)")
    parser.add_argument("--operator", metavar="NAME", help="your name, recorded in the proof-of-disposition log")
    parser.add_argument("--disposition-log-dir", type=Path, metavar="DIR",
                        help=f"proof-of-disposition log folder (default: FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR, "
                             f"else <archive-root>/{LOG_DIR_NAME})")


def run(args: argparse.Namespace, console: Console) -> int:
    if not args.undo:
        missing = [flag for flag, value in (("--plan", args.plan), ("--archive-root", args.archive_root),
                                            ("--path-map", args.path_map)) if not value]
        if missing:
            raise UsageError(f"missing {', '.join(missing)} (or --undo JOURNAL)")
    unmapped: list[tuple[str, Optional[str], int]] = []
    catalogue, log_dir = _settings(args)
    proof = ProofLog(log_dir) if args.apply else None
    extra: dict = {"disposition_log": str(log_dir) if args.apply else None}
    try:
        if args.undo:
            pctx = ProofContext.current(operator=args.operator, catalogue=catalogue) if args.apply else None
            report = undo(args.undo, apply=args.apply, proof=proof, proof_context=pctx)
        else:
            plan = plan_from_csv(args.plan, args.path_map)
            unmapped = unmapped_prefixes(plan)
            holds, hold_check = _holds(args, console)
            extra["hold_check"] = hold_check
            extra["holds_source"] = holds.source if holds is not None else None
            pctx = ProofContext.current(operator=args.operator, catalogue=catalogue, hold_check=hold_check,
                                        plan=args.plan) if args.apply else None
            report = remediate(plan, args.archive_root, apply=args.apply, journal_path=args.journal,
                               stub_message=args.stub_message, allow_unhashed=args.allow_unhashed,
                               holds=holds, proof=proof, proof_context=pctx)
    except OSError as exc:
        # The library reports a row's OSError in that row's result; one that escapes is about the
        # archive root or the journal themselves (cannot be created, not writable).
        where = f" {exc.filename}" if exc.filename else ""
        raise UsageError(f"cannot use{where}: {exc.strerror or exc}") from None
    print_report(report, as_json=args.json, unmapped=unmapped, extra=extra)
    return report.exit_code


def _settings(args: argparse.Namespace) -> tuple[Optional[Path], Path]:
    """The policy catalogue in use (its hash goes into the proof) and the disposition-log folder."""
    from file_records.policies.options import PolicyOptions
    from file_records.settings import load

    options = load(PolicyOptions)
    log_dir = args.disposition_log_dir or options.disposition_log_dir
    if log_dir is None:
        if args.archive_root:
            log_dir = Path(args.archive_root) / LOG_DIR_NAME
        else:  # --undo JOURNAL alone: the journal normally lives in the archive root
            log_dir = Path(os.path.abspath(args.undo)).parent / LOG_DIR_NAME
    return options.catalogue, Path(log_dir).expanduser()


def _holds(args: argparse.Namespace, console: Console) -> tuple[Optional[Holds], Optional[str]]:
    """The files on legal hold now and how they were checked (proof field ``hold_check``). Without
    pipeline state to read, a dry run warns and ``--apply`` is refused unless ``--no-hold-check``."""
    if args.no_hold_check:
        console.print("[yellow]warning:[/] legal holds not checked against the newest flags (--no-hold-check); "
                      "only the plan's own suppressed_by / hold rows are refused", soft_wrap=True)
        return None, HOLD_SKIPPED
    state_dir = args.state_dir
    if state_dir is None and DEFAULT_STATE_DIR.is_dir():
        state_dir = DEFAULT_STATE_DIR
    from file_records.local.runner import reading_session

    holds = read_holds(state_dir, reading_session) if state_dir is not None else None
    if holds is None:
        why = (f"{state_dir} has no gold_policy_flags table" if state_dir is not None
               else f"no pipeline state (no --state-dir and no {DEFAULT_STATE_DIR}/)")
        if args.apply:
            raise UsageError(f"could not check legal holds: {why}. Refusing to --apply: give --state-dir DIR "
                             "(after a pipeline run), or --no-hold-check to apply without the check")
        console.print(f"[yellow]warning:[/] could not check legal holds: {escape(why)}; --apply will need "
                      "--state-dir or --no-hold-check", soft_wrap=True)
        return None, None
    console.print(f"Legal holds checked: {len(holds)} file(s) on hold in {escape(holds.source)}", highlight=False,
                  soft_wrap=True)
    return holds, HOLD_CHECKED


def refusal_groups(results: list[RowResult]) -> list[tuple[str, bool, list[RowResult]]]:
    """Refused rows grouped by ``(reason, expected)``, unexpected ones first, biggest first. A
    refusal without a reason kind is its own group (its message)."""
    groups: dict[tuple[str, bool], list[RowResult]] = {}
    for r in results:
        if r.status == REFUSED:
            groups.setdefault((r.reason or r.message, r.expected), []).append(r)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][1], -len(kv[1]), kv[0][0]))
    return [(reason, expected, rows) for (reason, expected), rows in ordered]


def print_report(report: Report, as_json: bool = False,
                 unmapped: Optional[list[tuple[str, Optional[str], int]]] = None,
                 extra: Optional[dict] = None) -> None:
    """The report is the command's output, so it goes to stdout (as JSON with --json)."""
    unmapped = unmapped or []
    extra = extra or {}
    if as_json:
        data = report.to_dict()
        data["unmapped_prefixes"] = [{"prefix": p, "datasource_name": ds, "rows": n} for p, ds, n in unmapped]
        data.update(extra)
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    out = Console(highlight=False, soft_wrap=True)
    for r in report.results:
        if r.status in (REFUSED, NOT_APPROVED):
            continue
        colour = _COLOURS.get(r.status, "white")
        out.print(f"row {r.row} [{colour}]{r.status}[/{colour}] {escape(r.path)}: {escape(r.message)}")
    for reason, expected, rows in refusal_groups(report.results):
        colour, label = ("yellow", "refused as planned") if expected else ("red", "refused")
        examples = ", ".join(escape(r.path or f"row {r.row}") for r in rows[:EXAMPLES])
        more = f", ... {len(rows) - EXAMPLES} more" if len(rows) > EXAMPLES else ""
        detail = f" ({escape(rows[0].message)})" if len(rows) == 1 and rows[0].reason and not expected else ""
        out.print(f"[{colour}]{label}[/{colour}] {len(rows)} row(s): {escape(reason)}{detail}: e.g. {examples}{more}")
    for message, rows in _not_approved_groups(report.results):
        examples = ", ".join(escape(r.path or f"row {r.row}") for r in rows[:EXAMPLES])
        more = f", ... {len(rows) - EXAMPLES} more" if len(rows) > EXAMPLES else ""
        why = message.removeprefix("not approved: ")
        out.print(f"[yellow]not approved[/yellow] {len(rows)} row(s): {escape(why)}: e.g. {examples}{more}")
    if unmapped:
        out.print("[red]No --path-map covers these plan paths:[/red]")
        for prefix, datasource, n in unmapped:
            where = f" (datasource {escape(datasource)})" if datasource else ""
            out.print(f"  {escape(prefix)}{where}: {n} row(s); add --path-map \"{escape(prefix)}=LOCAL\"")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "no rows"
    if report.expected_refusals:
        summary += f" ({report.expected_refusals} refused as planned: on hold or kept)"
    out.print(f"[bold]{report.mode}[/bold]: {summary}")
    if report.dry_run:
        out.print("Dry run: nothing was changed. Add --apply to act.")
    else:
        out.print(f"Journal: {escape(report.journal or '')}")
        proofs = sorted({r.proof for r in report.results if r.proof})
        if proofs:
            n = sum(1 for r in report.results if r.proof)
            out.print(f"Proof of disposition: {n} record(s) appended to {escape(', '.join(proofs))}")


def _not_approved_groups(results: list[RowResult]) -> list[tuple[str, list[RowResult]]]:
    groups: dict[str, list[RowResult]] = {}
    for r in results:
        if r.status == NOT_APPROVED:
            groups.setdefault(r.message, []).append(r)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
