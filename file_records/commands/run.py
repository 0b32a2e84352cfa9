"""`file-records run`: settings -> pipeline configuration -> local run -> table counts."""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from file_records.datasets import working_tables
from file_records.errors import FileRecordsError, UsageError
from file_records.settings import LocalSparkSettings, Settings, load, load_settings

HELP = "run the pipeline on local Spark"
SOURCES = ("dxr", "workspace")
DEFAULT_STATE_DIR = Path(".file-records")
# A local run gives up on an unreachable Data X-Ray in seconds, not minutes (the engine retries the
# flow once more on top); DXR_MAX_ATTEMPTS / DXR_BACKOFF_SECONDS still win when set.
LOCAL_DXR_DEFAULTS = {"max_attempts": 3, "backoff_seconds": 0.5}


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
    parser.add_argument("--demo-day", type=int, choices=(1, 2), default=1,
                        help="with --demo: 2 serves the demo tenant a day later (files removed, changed, added) "
                             "and takes a new snapshot")
    parser.add_argument("--demo-days", type=int, choices=(1, 2), metavar="N",
                        help="with --demo: run the demo tenant's days 1 to N one after the other in one local "
                             "Spark (`make demo` runs 2: the second day needs no second JVM start)")
    parser.add_argument("--continuous", action="store_true",
                        help="keep running: refresh whenever a snapshot is due or an input changed; Ctrl-C stops")
    parser.add_argument("--poll-seconds", type=float, default=60.0, metavar="SECONDS",
                        help="with --continuous: how often to check (default 60)")
    parser.add_argument("--verbose", action="store_true",
                        help="also show the engine's output (always in STATE_DIR/logs/run-*.log)")


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


def _check_policies(settings: Settings) -> None:
    """The catalogue and hold list are checked before Spark starts: a bad policy or hold row is
    bad input (one line naming the file, policy or hold and field), not a failed run."""
    from file_records.policies.model import load_catalogue, load_holds

    load_catalogue(settings.policies.catalogue)
    if settings.policies.holds_file is not None:
        load_holds(settings.policies.holds_file)


def _decide(force_snapshot: bool, paths, conf: dict[str, str], sources: list[str], settings: Settings):
    """What this run must refresh, from the state directory alone (no engine start)."""
    from file_records.local import freshness

    freshness.verify_bronze(paths.storage, paths.warehouse, [freshness.BRONZE[s] for s in freshness.BRONZE])
    schedules = {}
    for source in sources:
        options = getattr(settings, source)
        force = options.force_snapshot_after
        if force_snapshot:
            force = datetime.now(timezone.utc).replace(microsecond=0)
        schedules[source] = freshness.SourceSchedule(options.snapshot_interval, force)
    previous = freshness.load_last_run(paths.root)
    return freshness.decide(paths.root, paths.storage, paths.warehouse, conf, schedules,
                            settings.policies.catalogue, settings.policies.holds_file,
                            (previous or {}).get("tables", []), datetime.now(timezone.utc))


def _say_idle(decision, state_dir: Path, console: Console) -> None:
    when = ", ".join(
        f"{source} at {moment.strftime('%Y-%m-%d %H:%M UTC')}" for source, moment in decision.next_due.items()
        if moment is not None
    )
    finished = (decision.previous or {}).get("finished_at", "?")
    console.print(
        f"Nothing new: no snapshot is due{f' (next: {when})' if when else ''}, and the rules, policies, "
        f"hold list and settings are unchanged since the run of {finished}. No table was rewritten; "
        "`--force-snapshot` takes a snapshot now.",
        soft_wrap=True,
    )
    _print_tables(state_dir, dict(sorted((decision.previous or {}).get("counts", {}).items())))


def _print_tables(state_dir: Path, counts: dict[str, int]) -> None:
    """The published tables and their rows; the working tables they are made from in one line."""
    working = sorted(name for name in counts if name in working_tables())
    table = Table(title=f"Tables in {state_dir}",
                  caption=f"and {len(working)} working tables (*_candidates, *_newest, *_kept: docs/incremental.md)"
                  if working else None)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        if name not in working:
            table.add_row(name, f"{count:,}")
    Console().print(table)


def _local_dxr_defaults(settings: Settings) -> Settings:
    unset = {k: v for k, v in LOCAL_DXR_DEFAULTS.items() if k not in settings.dxr.model_fields_set}
    if not unset:
        return settings
    return dataclasses.replace(settings, dxr=settings.dxr.model_copy(update=unset))


def _write_demo_report(state_dir: Path) -> Path:
    """The demo also writes the HTML report, from the committed table files (no engine: the
    run's Spark JVM has exited and released the state)."""
    from file_records.commands.report import write_report

    try:
        return write_report(state_dir, state_dir.resolve() / "report.html")
    except FileRecordsError as exc:
        raise FileRecordsError(f"the pipeline ran, but the report could not be written: {exc}") from exc


def _printer(console: Console):
    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return say


@dataclass
class _Prepared:
    """What every pass of a run (one, or many with --continuous) needs, validated before Spark."""

    settings: Settings
    sources: list[str]
    origin: dict[str, str]


def _prepare(args: argparse.Namespace, console: Console, stack: ExitStack) -> _Prepared:
    from file_records import state

    dxr_overrides = {"base_url": args.dxr_base_url, "queries": args.dxr_queries}
    workspace_overrides = {"max_users": args.max_users}
    policy_overrides = {}
    origin = {}
    if args.demo:
        from file_records.local.demo import DEMO_HOLDS_FILE, DEMO_MARKER, demo_services

        console.print("[bold]Starting the built-in Data X-Ray emulator[/] (demo corpus)…")
        endpoints = stack.enter_context(demo_services(day=args.demo_day))
        dxr_overrides = {"base_url": endpoints.dxr_base_url, "queries": endpoints.dxr_queries,
                         "backoff_seconds": 0.2, "max_attempts": 3}
        policy_overrides["holds_file"] = DEMO_HOLDS_FILE
        origin["dxr"] = origin["workspace"] = DEMO_MARKER
    settings = _local_dxr_defaults(load_settings(dxr_overrides, workspace_overrides, policy_overrides))
    sources = _selected_sources(args.sources, settings)
    _check_sources(sources, settings, args.demo)
    if not args.demo:
        _export_secrets(sources, settings)
    if "dxr" in sources:
        origin.setdefault("dxr", settings.dxr.base_url)
    if "workspace" in sources:
        origin.setdefault("workspace", settings.workspace.host or f"profile:{settings.workspace.profile}")
    _check_policies(settings)
    state.claim(args.state_dir.resolve(), origin)
    return _Prepared(settings, sources, origin)


def _spark_settings(args: argparse.Namespace) -> LocalSparkSettings:
    settings = load(LocalSparkSettings)
    if not args.demo:
        return settings
    # The demo tenant has about 500 files: interpreting its queries, and compiling Spark's code with
    # C1 only, is faster than compiling both fully.
    small = {"codegen": "off"} if settings.codegen == "auto" else {}
    if settings.jit == "auto":
        small["jit"] = "quick"
    return settings.model_copy(update=small)


def run(args: argparse.Namespace, console: Console) -> int:
    from file_records.local.runner import check_full_refresh

    check_full_refresh(args.full_refresh)
    if args.continuous and (args.dry_run or args.full_refresh):
        raise UsageError("--continuous does not go with --dry-run or --full-refresh")
    if args.poll_seconds <= 0:
        raise UsageError("--poll-seconds must be more than 0")
    if (args.demo_day > 1 or args.demo_days) and not args.demo:
        raise UsageError(f"{'--demo-days' if args.demo_days else '--demo-day'} goes with --demo")
    if args.demo_days:
        if args.demo_day > 1 or args.continuous or args.dry_run:
            raise UsageError("--demo-days runs the demo's days from the first: leave out --demo-day, --continuous "
                             "and --dry-run")
        return _run_demo_days(args, console)
    with ExitStack() as stack:
        prepared = _prepare(args, console, stack)
        if not args.continuous:
            return _run_once(args, console, prepared, force_snapshot=args.force_snapshot or args.demo_day > 1)
        return _run_continuously(args, console, prepared)


def _run_demo_days(args: argparse.Namespace, console: Console) -> int:
    """The demo tenant's days 1 to ``--demo-days``, each with its own emulators and run, in one local
    Spark: a later day skips the JVM's start, the metastore's first use and the JIT's warm-up. The
    report is written once, after the last day."""
    from file_records.local.engine import LocalSpark

    with LocalSpark(keep=True) as engine:
        for day in range(1, args.demo_days + 1):
            console.print(f"[bold]Demo day {day} of {args.demo_days}[/]")
            day_args = argparse.Namespace(**{**vars(args), "demo_day": day})
            with ExitStack() as stack:
                prepared = _prepare(day_args, console, stack)
                _run_once(day_args, console, prepared, force_snapshot=args.force_snapshot or day > 1,
                          engine=engine, last=day == args.demo_days)
    return 0


def _run_continuously(args: argparse.Namespace, console: Console, prepared: _Prepared) -> int:
    """Run whenever a snapshot is due (or an input changed), until Ctrl-C or SIGTERM. A stop
    during a run ends that run's engine; its uncommitted snapshot is not stored and is taken
    again by the next run, so only whole snapshots are ever kept."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    force = args.force_snapshot or args.demo_day > 1
    console.print(f"Continuous mode: checking every {args.poll_seconds:g} s for a due snapshot or a "
                  "changed input; Ctrl-C or SIGTERM stops it.", soft_wrap=True)
    first = True
    try:
        while True:
            _run_once(args, console, prepared, force_snapshot=force, quiet_when_idle=not first)
            force, first = False, False
            time.sleep(args.poll_seconds)
    except KeyboardInterrupt:
        console.print("Stopped. Every snapshot stored is whole; the next run takes any that was cut short.",
                      soft_wrap=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_once(args: argparse.Namespace, console: Console, prepared: _Prepared, force_snapshot: bool,
              quiet_when_idle: bool = False, engine=None, last: bool = True) -> int:
    """One run. ``engine``: a LocalSpark kept across the runs of this process (default: one for this
    run); ``last``: the last of them, after which the demo writes its report."""
    from file_records.local import freshness
    from file_records.local.progress import duration
    from file_records.local.runner import run_pipeline
    from file_records.local.spark import StatePaths

    started = time.monotonic()
    verbose = bool(getattr(args, "verbose", False) or getattr(args, "debug", False))
    say = _printer(console)
    settings, sources = prepared.settings, prepared.sources
    conf = _pipeline_conf(sources, settings, force_snapshot)
    paths = StatePaths(args.state_dir.resolve())
    # The demo's emulators listen on a new port each time: that is not a different tenant.
    fingerprinted = {key: ("demo" if args.demo and key.endswith((".base_url", ".host")) else value)
                     for key, value in conf.items()}
    decision = None if args.dry_run else _decide(force_snapshot, paths, fingerprinted, sources, settings)
    if decision is not None and decision.plan.idle and not args.full_refresh:
        if not quiet_when_idle:
            _say_idle(decision, args.state_dir, console)
        return 0
    if decision is not None and not decision.plan.everything:
        console.print("Refreshing what changed: " + "; ".join(decision.plan.reasons), soft_wrap=True)

    console.print(f"Running the pipeline for [bold]{', '.join(sources)}[/] in {args.state_dir} …")
    live = console.is_terminal and not verbose
    with (console.status("starting local Spark…") if live else _no_status()) as status:
        def on_event(message: str) -> None:
            if status is not None:
                status.update(message.strip().splitlines()[0][:120] if message.strip() else "")

        result = run_pipeline(
            args.state_dir,
            conf,
            _spark_settings(args),
            full_refresh=args.full_refresh,
            dry_run=args.dry_run,
            on_event=on_event,
            say=say,
            verbose=verbose,
            refresh_start=None if decision is None or decision.plan.everything else decision.plan.start,
            known_counts=(decision.previous or {}).get("counts") if decision is not None else None,
            engine=engine,
        )
    if decision is not None:
        freshness.save_last_run(paths.root, decision.inputs, result.table_counts, datetime.now(timezone.utc))

    if args.dry_run:
        console.print(f"[green]The pipeline graph is valid[/] ({result.seconds:.0f} s).")
        return 0
    report = None
    if args.demo and last:
        if engine is not None:
            engine.close()  # the report reads the committed files after the JVM has let go of the state
        with (console.status("writing the report…") if console.is_terminal else _no_status()):
            report = _write_demo_report(args.state_dir)
    _print_tables(args.state_dir, result.table_counts)
    if report is not None:
        console.print(f"[bold]Report:[/] {report}", soft_wrap=True)
    console.print(f'Query them with: file-records query --state-dir {args.state_dir} "SELECT * FROM <table>"',
                  soft_wrap=True)
    for line in result.summary:
        console.print(f"  {line}", soft_wrap=True, highlight=False, markup=False)
    console.print(f"Log: {result.log_path}", soft_wrap=True, highlight=False)
    console.print(f"[green]Run is COMPLETED[/] in {duration(time.monotonic() - started)}.")
    return 0


class _no_status:
    """Stands in for console.status when the output is not a terminal: plain lines only."""

    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None
