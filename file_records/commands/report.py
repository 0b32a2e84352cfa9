"""`file-records report`: one self-contained HTML page over the local tables, records manager first:
headline figures, every policy of the catalogue, what changed per snapshot, disposition status,
the largest duplicates and owners, data quality last, and the next commands to run."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Optional

from rich.console import Console

from file_records.commands.run import add_state_dir

DEFAULT_REPORT_NAME = "report.html"


def _write_atomically(path: Path, text: str) -> None:
    """A reader never sees half a page; the file gets the usual permissions (umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _catalogue_in_use():
    """The catalogue the pipeline evaluates (FILE_RECORDS_POLICIES_CATALOGUE, else the packaged one)."""
    from file_records.policies.model import load_catalogue
    from file_records.policies.options import PolicyOptions
    from file_records.settings import load

    return load_catalogue(load(PolicyOptions).catalogue)


def write_report(state_dir: Path, out_path: Optional[Path] = None, engine: str = "duckdb") -> Path:
    """Read the tables in ``state_dir`` and write the HTML report to ``out_path`` (default
    ``<state_dir>/report.html``); returns the absolute path written.

    ``engine="duckdb"`` (default) reads the tables' committed files with DuckDB, in about a second;
    ``"spark"`` opens (and stops) a classic local Spark session. Both read under the
    state-directory lock, so call it after any other session on the state directory has been
    stopped (for `run`: after `run_pipeline` has returned). Raises UsageError when there is no
    pipeline state.
    """
    from file_records.local.spark import StatePaths
    from file_records.report.data import collect_report_data
    from file_records.report.render import render_report

    paths = StatePaths(Path(state_dir).resolve())
    out = Path(out_path) if out_path is not None else paths.root / DEFAULT_REPORT_NAME
    out = out.expanduser().resolve()
    if engine == "spark":
        from file_records.local.runner import reading_session as reader
    else:
        from file_records.local.tables import open_tables as reader
    with reader(state_dir) as tables:
        data = collect_report_data(tables, catalogue=_catalogue_in_use())
    data["state_dir"] = str(paths.root)
    _write_atomically(out, render_report(data))
    return out


HELP = "write the self-contained HTML data-quality and inventory report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument("--out", type=Path, default=None, help="HTML file to write (default: STATE_DIR/report.html)")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="duckdb (default): read the committed table files, in about a second; "
                             "spark: a local Spark session (tens of seconds)")


def run(args: argparse.Namespace, console: Console) -> int:
    out = getattr(args, "out", None)
    with console.status("reading the tables…"):
        path = write_report(args.state_dir, Path(out) if out is not None else None,
                            engine=getattr(args, "engine", "duckdb"))
    console.print(f"Report written to [bold]{path}[/]", soft_wrap=True)
    return 0
