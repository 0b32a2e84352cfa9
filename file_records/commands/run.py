"""`file-records run`: settings -> pipeline configuration -> local run -> table counts."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from file_records.errors import UsageError
from file_records.settings import LocalSparkSettings, Settings, load, load_settings

HELP = "run the pipeline on local Spark"
SOURCES = ("dxr", "workspace")
DEFAULT_STATE_DIR = Path(".file-records")


def comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                        help="catalog, tables and checkpoints (default ./.file-records)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demo", action="store_true", help="start the built-in emulators and run against them")
    parser.add_argument("--sources", type=comma_list, help="comma-separated: dxr,workspace (default: every configured source)")
    add_state_dir(parser)
    parser.add_argument("--full-refresh", type=comma_list, default=[], metavar="TABLES", help="comma-separated tables to recompute from scratch")
    parser.add_argument("--force-snapshot", action="store_true", help="take a new source snapshot even if the minimum interval has not passed")
    parser.add_argument("--dry-run", action="store_true", help="validate the pipeline graph without reading or writing data")
    parser.add_argument("--dxr-base-url", help="overrides DXR_BASE_URL")
    parser.add_argument("--dxr-query", action="append", dest="dxr_queries", metavar="QUERY", help="a DXR query; repeat for several (overrides DXR_QUERY / DXR_QUERIES)")
    parser.add_argument("--max-users", type=int, help="workspace source: scan at most this many users (trials)")


def _selected_sources(requested, settings: Settings) -> list[str]:
    if requested:
        unknown = sorted(set(requested) - set(SOURCES))
        if unknown:
            raise UsageError(f"unknown source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}")
        return list(requested)
    configured = [name for name in SOURCES if getattr(settings, name).configured]
    if not configured:
        raise UsageError(
            "no source is configured: set DXR_BASE_URL and DXR_BEARER_TOKEN, and/or DATABRICKS_HOST and "
            "DATABRICKS_TOKEN (environment or .env), or try everything against the built-in emulators with "
            "`file-records run --demo`"
        )
    return configured


def _check_sources(sources: list[str], settings: Settings, demo: bool) -> None:
    """What can be checked before Spark starts is checked here, so a typo costs no engine start."""
    if "dxr" in sources:
        dxr = settings.dxr
        if not dxr.configured:
            raise UsageError("--sources dxr needs DXR_BASE_URL (or --dxr-base-url)")
        if not demo and settings.dxr_token is None and not dxr.token_scope:
            raise UsageError(f"{dxr.token_env} is not set (environment or .env): the Data X-Ray API needs a bearer token")
    if "workspace" in sources and not settings.workspace.configured:
        raise UsageError("--sources workspace needs DATABRICKS_HOST (or DATABRICKS_CONFIG_PROFILE)")


def _export_secrets(sources: list[str], settings: Settings) -> None:
    """The local pipeline's connectors read tokens from the environment on the driver (never
    options): put what came from `.env` there."""
    if "dxr" in sources and settings.dxr_token is not None:
        os.environ[settings.dxr.token_env] = settings.dxr_token.get_secret_value()
    if "workspace" in sources:
        if settings.workspace.host:
            os.environ["DATABRICKS_HOST"] = settings.workspace.host
        if settings.workspace_token is not None:
            os.environ["DATABRICKS_TOKEN"] = settings.workspace_token.get_secret_value()


def _pipeline_conf(sources: list[str], settings: Settings, force_snapshot: bool) -> dict[str, str]:
    from file_records.pipelines import conf as pipeline_conf

    force_after = datetime.now(timezone.utc).replace(microsecond=0) if force_snapshot else None
    conf: dict[str, str] = {}
    for source in sources:
        options = getattr(settings, source)
        if force_after is not None:
            options = options.model_copy(update={"force_snapshot_after": force_after})
        conf.update(pipeline_conf.conf_for(source, options))
    conf.update(pipeline_conf.conf_for("policies", settings.policies))
    return conf


def _write_demo_report(state_dir, console: Console) -> None:
    """The demo also writes the HTML report. In a fresh process: this one's local Spark has served
    the pipeline and a second session type must not share its JVM."""
    import subprocess
    import sys

    out = state_dir.resolve() / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "file_records", "report", "--state-dir", str(state_dir), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        console.print(f"[bold]Report:[/] {out}")
    else:
        console.print(f"[yellow]the report could not be written:[/] {done.stderr.strip()[-500:]}")


def run(args: argparse.Namespace, console: Console) -> int:
    from file_records import state
    from file_records.local.runner import check_full_refresh, run_pipeline

    check_full_refresh(args.full_refresh)

    with ExitStack() as stack:
        dxr_overrides = {"base_url": args.dxr_base_url, "queries": args.dxr_queries}
        workspace_overrides = {"max_users": args.max_users}
        policy_overrides = {}
        origin = {}
        if args.demo:
            from file_records.local.demo import DEMO_HOLDS_FILE, DEMO_MARKER, demo_services

            console.print("[bold]Starting the built-in Data X-Ray emulator[/] (demo corpus)…")
            endpoints = stack.enter_context(demo_services())
            dxr_overrides = {"base_url": endpoints.dxr_base_url, "queries": endpoints.dxr_queries,
                             "backoff_seconds": 0.2}
            policy_overrides["holds_file"] = DEMO_HOLDS_FILE
            origin["dxr"] = origin["workspace"] = DEMO_MARKER
        settings = load_settings(dxr_overrides, workspace_overrides, policy_overrides)
        sources = _selected_sources(args.sources, settings)
        _check_sources(sources, settings, args.demo)
        if not args.demo:
            _export_secrets(sources, settings)
        if "dxr" in sources:
            origin.setdefault("dxr", settings.dxr.base_url)
        if "workspace" in sources:
            origin.setdefault("workspace", settings.workspace.host or f"profile:{settings.workspace.profile}")
        conf = _pipeline_conf(sources, settings, args.force_snapshot)
        state.claim(args.state_dir.resolve(), origin)

        console.print(f"Running the pipeline for [bold]{', '.join(sources)}[/] in {args.state_dir} …")
        with console.status("starting local Spark…") as status:
            def on_event(message: str) -> None:
                status.update(message.strip()[:120])
                if "COMPLETED" in message or "FAILED" in message or "failed" in message:
                    console.print(f"  {message.strip()[:300]}")

            result = run_pipeline(
                args.state_dir,
                conf,
                load(LocalSparkSettings),
                full_refresh=args.full_refresh,
                dry_run=args.dry_run,
                on_event=on_event,
            )

    if args.dry_run:
        console.print(f"[green]The pipeline graph is valid[/] ({result.seconds:.0f} s).")
        return 0
    if args.demo:
        _write_demo_report(args.state_dir, console)
    table = Table(title=f"Tables in {args.state_dir} after {result.seconds:.0f} s")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in result.table_counts.items():
        table.add_row(name, f"{count:,}")
    Console().print(table)
    console.print(f'Query them with: file-records query --state-dir {args.state_dir} "SELECT * FROM <table>"')
    return 0
