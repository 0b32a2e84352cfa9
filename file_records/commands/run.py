"""`file-records run`: settings -> pipeline configuration -> local run -> table counts."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from datetime import datetime, timezone

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from file_records import pipeline_conf
from file_records.errors import UsageError

SOURCES = ("dxr", "workspace")
from file_records.settings import DxrSettings, LocalSparkSettings, PolicySettings, WorkspaceSettings


def load_dxr_settings(**overrides) -> DxrSettings:
    try:
        return DxrSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"DXR_{'_'.join(str(p) for p in e['loc']).upper() or 'SETTINGS'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(f"invalid Data X-Ray settings: {problems}") from None


def load_workspace_settings(**overrides) -> WorkspaceSettings:
    try:
        return WorkspaceSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid workspace settings: {problems}") from None


def _selected_sources(requested, dxr: DxrSettings, workspace: WorkspaceSettings) -> list[str]:
    if requested:
        unknown = sorted(set(requested) - set(SOURCES))
        if unknown:
            raise UsageError(f"unknown source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}")
        return list(requested)
    configured = [name for name, ok in (("dxr", dxr.configured), ("workspace", workspace.configured)) if ok]
    if not configured:
        raise UsageError(
            "no source is configured: set DXR_BASE_URL and DXR_BEARER_TOKEN, and/or DATABRICKS_HOST and "
            "DATABRICKS_TOKEN (environment or .env), or try everything against the built-in emulators with "
            "`file-records run --demo`"
        )
    return configured


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
    )
    if done.returncode == 0:
        console.print(f"[bold]Report:[/] {out}")
    else:
        console.print(f"[yellow]the report could not be written:[/] {done.stderr.strip()[-500:]}")


def run_command(args: argparse.Namespace, console: Console) -> int:
    from file_records import state
    from file_records.local.runner import PipelineRunError, run_pipeline
    from file_records.local.spark import LocalSparkError

    with ExitStack() as stack:
        overrides = {"base_url": args.dxr_base_url, "queries": args.dxr_queries}
        origin = {}
        if args.demo:
            from file_records.local.demo import DEMO_MARKER, demo_services

            console.print("[bold]Starting the built-in Data X-Ray emulator[/] (demo corpus)…")
            endpoints = stack.enter_context(demo_services())
            overrides = {"base_url": endpoints.dxr_base_url, "queries": endpoints.dxr_queries}
            origin["dxr"] = origin["workspace"] = DEMO_MARKER
        dxr = load_dxr_settings(**overrides)
        workspace = load_workspace_settings(max_users=args.max_users)
        sources = _selected_sources(args.sources, dxr, workspace)
        if "dxr" in sources:
            if not dxr.configured:
                raise UsageError("--sources dxr needs DXR_BASE_URL (or --dxr-base-url)")
            if not args.demo and not dxr.bearer_token and not (dxr.token_scope and dxr.token_key):
                raise UsageError("DXR_BEARER_TOKEN is not set (environment or .env): the Data X-Ray API needs a bearer token")
            if dxr.bearer_token and not args.demo:
                import os

                os.environ["DXR_BEARER_TOKEN"] = dxr.bearer_token.get_secret_value()
            origin.setdefault("dxr", dxr.base_url)
        if "workspace" in sources:
            if not workspace.configured:
                raise UsageError("--sources workspace needs DATABRICKS_HOST (or DATABRICKS_CONFIG_PROFILE)")
            import os

            # The scan's workers authenticate with databricks-sdk unified auth from the environment.
            if workspace.host:
                os.environ["DATABRICKS_HOST"] = workspace.host
            if workspace.token is not None:
                os.environ["DATABRICKS_TOKEN"] = workspace.token.get_secret_value()
            origin.setdefault("workspace", workspace.host or f"profile:{workspace.profile}")

        conf = {}
        force_after = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if args.force_snapshot else ""
        if "dxr" in sources:
            conf.update(pipeline_conf.dxr_conf_from_settings(dxr, force_snapshot_after=force_after))
            if args.demo:
                conf["file_records.dxr.backoff_seconds"] = "0.2"
        if "workspace" in sources:
            conf.update(pipeline_conf.workspace_conf_from_settings(workspace, force_snapshot_after=force_after))
        policy_overrides = {}
        if args.demo:
            from file_records.local.demo import DEMO_HOLDS_FILE

            policy_overrides["holds_file"] = DEMO_HOLDS_FILE
        try:
            policy_settings = PolicySettings(**policy_overrides)
        except ValidationError as exc:
            raise UsageError(f"invalid policy settings: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None
        conf.update(pipeline_conf.policy_conf_from_settings(policy_settings))
        state.claim(args.state_dir.resolve(), origin)

        console.print(f"Running the pipeline for [bold]{', '.join(sources)}[/] in {args.state_dir} …")
        try:
            with console.status("starting local Spark…") as status:
                def on_event(message: str) -> None:
                    status.update(message.strip()[:120])
                    if "COMPLETED" in message or "FAILED" in message or "failed" in message:
                        console.print(f"  {message.strip()[:300]}")

                result = run_pipeline(
                    args.state_dir,
                    conf,
                    LocalSparkSettings(),
                    full_refresh=args.full_refresh,
                    dry_run=args.dry_run,
                    on_event=on_event,
                )
        except (PipelineRunError, LocalSparkError) as exc:
            console.print(f"[bold red]pipeline failed:[/] {exc}")
            return 1

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
