"""`file-records`: the command line. One parser; each command is a module of
`file_records.commands` that declares its flags (`add_arguments`), does its work and prints
(`run`). The work itself lives in the libraries below (connectors, pipelines, policies, ...).

Errors end here: a :class:`~file_records.errors.UsageError` is one line and exit status 2, any
other :class:`~file_records.errors.FileRecordsError` a short message and exit status 1. A
traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from rich.console import Console
from rich.markup import escape

from file_records import __version__
from file_records.errors import FileRecordsError, UsageError

# command name -> module in file_records.commands (order: as listed in --help)
COMMANDS = {
    "run": "run",
    "query": "query",
    "export": "export",
    "report": "report",
    "users": "users",
    "remediate": "remediate",
    "emulate": "emulate",
    "doctor": "doctor",
}

console = Console(stderr=True, highlight=False)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2 (argparse prints the whole usage)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        console.print(f"[bold red]error:[/] {escape(message)} (see `{self.prog} --help`)", soft_wrap=True)
        raise SystemExit(2)


def _command_module(name: str):
    return importlib.import_module(f"file_records.commands.{COMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="file-records",
        description="Inventory every file you hold and flag what records policy says to do with it.",
    )
    parser.add_argument("--version", action="version", version=f"file-records {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and engine output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = _command_module(name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        # Also after the command (`file-records run --debug`); SUPPRESS keeps a --debug given
        # before the command from being reset by the subcommand's default.
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        module.add_arguments(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return _command_module(args.command).run(args, console)
    except UsageError as exc:
        if args.debug:
            raise
        console.print(f"[bold red]error:[/] {escape(_one_line(exc))}", soft_wrap=True)
        return 2
    except FileRecordsError as exc:
        if args.debug:
            raise
        console.print(f"[bold red]failed:[/] {escape(str(exc))}", soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except Exception as exc:
        if args.debug:
            raise
        console.print(
            f"[bold red]unexpected error:[/] {escape(type(exc).__name__)}: {escape(_one_line(exc)[:300])}\n"
            "This is a bug in file-records; run again with --debug for the traceback and report it.",
            soft_wrap=True,
        )
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
