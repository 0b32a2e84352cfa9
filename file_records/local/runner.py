"""Runs the pipeline in pipelines/ on local OSS Spark, the way `spark-pipelines run` does,
with a persistent catalog, a lock on the state directory and readable progress."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence

from file_records import pipelines
from file_records.datasets import DATASETS, kept_facts_tables
from file_records.errors import PipelineRunError, StateError, UsageError
from file_records.frames import EAGER_RELATIONS
from file_records.local import failures
from file_records.local.engine import LocalSpark
from file_records.local.freshness import downstream
from file_records.local.progress import Progress
from file_records.local.runlog import RunLog, jvm_alive, python_logging_to
from file_records.local.spark import (
    LocalSparkError,
    LocalSparkSettings,
    StatePaths,
)
from file_records.local.summary import summary_lines
from file_records.local.tables import row_count, table_names

PIPELINE_DIR = Path(pipelines.__file__).resolve().parent
SPEC_PATH = PIPELINE_DIR / "spark-pipeline.yml"
DATABASE = "default"

# pyspark 4.2.x / 4.3.0: after a run that used a Python data source has COMPLETED, the event
# stream ends with this error (SPARK-59135, fixed upstream). Only this, only after completion,
# is treated as success.
_ACCUMULATOR_BUG = re.compile(r"UNKNOWN_RESPONSE.*__python_accumulator__", re.DOTALL)
_COMPLETED = re.compile(r"Run is COMPLETED", re.IGNORECASE)
_FLOW_FAILED = re.compile(r"Flow .* (?:has FAILED|failed)")

# The engine retries a failed flow; each retry repeats the connector's own HTTP attempts. Once is
# enough for a passing fault, and a connector error that retrying cannot fix stops the run at
# once (see _run_layer). Watchdog: seconds before the retry.
ENGINE_CONF = {
    "spark.sql.pipelines.maxFlowRetryAttempts": "1",
    "spark.sql.pipelines.execution.watchdog.minRetryTime": "2",
    "spark.sql.pipelines.execution.watchdog.maxRetryTime": "10",
}


# Below this many rows in the previous run's newest snapshots, queries are interpreted, not compiled
# (LocalSparkSettings.codegen "auto"): break-even was measured near 20,000 files.
SMALL_RUN_ROWS = 10_000
# From this many rows on (or with no earlier run to size by), the JVM also compiles hot code with C2
# (LocalSparkSettings.jit "auto"). Measured with pipeline_runs.py, two DXR queries: 50,000 files 51.9 s
# with C1 only, 64.3 s with C2; 400,000 files 129.0 s with C1 only, 105.8 s with C2: break-even near
# 185,000 files.
LARGE_RUN_ROWS = 200_000


class StateLockedError(StateError):
    """Another process holds the state directory."""


@dataclass
class RunResult:
    completed: bool
    table_counts: dict[str, int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log_path: Optional[Path] = None
    refreshed: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


@contextmanager
def state_lock(paths: StatePaths) -> Iterator[None]:
    """One run per state directory: the embedded Derby metastore allows one JVM at a time."""
    paths.root.mkdir(parents=True, exist_ok=True)
    handle = open(paths.lock, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateLockedError(
                f"another file-records process is using {paths.root}; wait for it to finish or use another --state-dir"
            ) from None
        yield
    finally:
        handle.close()


def protected_tables(names: Sequence[str]) -> list[str]:
    """Bronze tables keep history the sources cannot give again, and kept facts the figures of past
    runs as they were computed on their day; they are never reset."""
    kept = set(kept_facts_tables())
    return [name for name in names if name.startswith("bronze_") or name in kept]


def check_full_refresh(names: Sequence[str]) -> None:
    refused = protected_tables(names)
    if refused:
        raise UsageError(
            f"refusing to fully refresh {', '.join(refused)}: bronze tables hold every snapshot taken so "
            "far and the source APIs cannot return history (kept facts: the figures of past runs as computed "
            "on their day). Delete the state directory to start over."
        )


def _build_spec(paths: StatePaths, conf: Mapping[str, str]):
    from pyspark.pipelines.cli import LibrariesGlob, PipelineSpec

    return PipelineSpec(
        name="file-records",
        storage=paths.storage.resolve().as_uri(),
        catalog=None,
        database=DATABASE,
        configuration=dict(conf),
        libraries=[LibrariesGlob(include="transformations/**")],
    )


def _event_text(result: dict) -> Optional[str]:
    if "pipeline_event_result" not in result:
        return None
    return result["pipeline_event_result"].event.message


def _event_time(result: dict) -> str:
    """The engine's own time of an event (UTC, to the millisecond): where a layer's seconds went."""
    stamp = result["pipeline_event_result"].event.timestamp
    return stamp.ToDatetime().strftime("%H:%M:%S.%f")[:-3]


def run_pipeline(
    state_dir: Path,
    conf: Mapping[str, str],
    spark_settings: LocalSparkSettings,
    full_refresh: Sequence[str] = (),
    dry_run: bool = False,
    on_event: Callable[[str], None] = lambda message: None,
    say: Callable[[str], None] = lambda line: None,
    verbose: bool = False,
    refresh_start: Optional[Iterable[str]] = None,
    known_counts: Optional[Mapping[str, int]] = None,
    engine: Optional[LocalSpark] = None,
) -> RunResult:
    """Run the pipeline; ``say`` gets file-records' own console lines (one per table, progress
    records), the run log ``<state>/logs/run-*.log`` gets the engine's output (and ``say`` too
    with ``verbose``). A failure is a :class:`PipelineRunError` of a few lines naming the table,
    the cause and the log. ``refresh_start`` limits the run to those tables and everything
    downstream of them (None: every table). ``engine``: a :class:`LocalSpark` kept for several
    runs of this process (default: local Spark is started for this run and stopped after it)."""
    check_full_refresh(full_refresh)
    paths = StatePaths(state_dir.resolve()).create()
    started = time.monotonic()
    conf = {**ENGINE_CONF, **conf}
    with state_lock(paths):
        log = RunLog.create(paths.root, echo=say if verbose else None)
        try:
            with python_logging_to(log, say):
                result = _run_with_log(paths, conf, spark_settings, full_refresh, dry_run, on_event, say, log,
                                       refresh_start, known_counts or {}, engine or LocalSpark())
        finally:
            log.close()
    result.seconds = time.monotonic() - started
    return result


def _run_with_log(paths, conf, spark_settings, full_refresh, dry_run, on_event, say, log: RunLog,
                  refresh_start: Optional[Iterable[str]], known_counts: Mapping[str, int],
                  engine: LocalSpark) -> RunResult:
    log.write(f"file-records local run in {paths.root}; configuration keys: {', '.join(sorted(conf))}", echo=False)
    spark_settings, choices = resolve_by_run_size(paths, spark_settings)
    for line in choices:
        log.write(line, echo=False)
    spark = engine.session(paths, spark_settings, conf, log, say)
    succeeded = False
    try:
        result = _run_graph(spark, paths, conf, full_refresh, dry_run, on_event, say, log, refresh_start)
        result.log_path = log.path
        if result.completed and not dry_run:
            finishing = time.monotonic()
            # Tables this run did not refresh keep the counts of the run that last wrote them.
            result.table_counts = table_counts(paths, known={**known_counts, **result.table_counts})
            result.summary = summary_lines(spark, result.table_counts, known_counts)
            log.write(f"counts and summary in {time.monotonic() - finishing:.1f} s", echo=False)
        succeeded = result.completed
        return result
    except PipelineRunError as exc:
        if not jvm_alive():
            raise PipelineRunError(f"local Spark's JVM exited during the run{_jvm_fatal_error(log.path)}; "
                                   f"details in {log.path}") from exc
        engine.interrupt()
        raise
    finally:
        engine.run_ended(succeeded, succeeded and not dry_run)


def resolve_by_run_size(paths: StatePaths, settings: LocalSparkSettings) -> tuple[LocalSparkSettings, list[str]]:
    """``settings`` with an "auto" codegen and JIT decided by the size of the previous run's newest
    snapshots (the candidates tables' parquet footers), and a log line for each choice."""
    counts = [row_count(paths.root, d.candidates) for d in DATASETS.values()]
    known = [count for count in counts if count is not None]
    rows = sum(known) if known else None

    def why(threshold: int, below: bool) -> str:
        if rows is None:
            return "no earlier run to size this one by"
        return f"the previous run's newest snapshots have {rows:,} rows ({'<' if below else '>='} {threshold:,})"

    codegen, codegen_why = settings.codegen, f"codegen set to {settings.codegen!r}"
    if codegen == "auto":
        small = rows is not None and rows < SMALL_RUN_ROWS
        codegen, codegen_why = ("off" if small else "on"), why(SMALL_RUN_ROWS, small)
    jit, jit_why = settings.jit, f"jit set to {settings.jit!r}"
    if jit == "auto":
        large = rows is None or rows >= LARGE_RUN_ROWS
        jit, jit_why = ("full" if large else "quick"), why(LARGE_RUN_ROWS, not large)
    lines = [f"query code {'interpreted' if codegen == 'off' else 'compiled'}: {codegen_why}",
             f"JIT {'quick (C1 only)' if jit == 'quick' else 'full (C1 and C2)'}: {jit_why}"]
    return settings.model_copy(update={"codegen": codegen, "jit": jit}), lines


_JVM_FATAL = re.compile(r"java\.lang\.(OutOfMemoryError|VirtualMachineError|InternalError)\b[^\n]*")


def _jvm_fatal_error(log_path: Path) -> str:
    """': <the JVM's fatal error>' when the run log has one (out of memory, say), else ''."""
    try:
        found = _JVM_FATAL.search(Path(log_path).read_text(errors="replace"))
    except OSError:
        return ""
    return f": {found.group(0).strip()}" if found else ""


def _graph_registry_class():
    from pyspark.pipelines.spark_connect_graph_element_registry import SparkConnectGraphElementRegistry

    class DependencyRecordingRegistry(SparkConnectGraphElementRegistry):
        """Registers flows as usual and remembers which tables each one reads, and the steps of its plan.

        On OSS Spark 4.3 a few DataFrame steps make the Connect server resolve a flow's reads against
        the catalog once the tables exist, and the engine then runs the flow before (or while) what
        it reads refreshes (apache/spark#57897; file_records.frames). Knowing the steps tells the
        runner whether the engine can order the whole graph in one run; knowing the reads lets it
        refresh layer by layer when it cannot, and refresh only what depends on a change.
        """

        def __init__(self, *args, only: Optional[set[str]] = None, record_only: bool = False, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.reads: dict[str, set[str]] = {}
            # The relation types of each flow's plan: one the server analyses at once hides reads
            # from the engine (file_records.frames).
            self.kinds: dict[str, set[str]] = {}
            # A run's graph holds only the datasets it refreshes: what they read and the run does not
            # refresh was written by an earlier run (or layer) and is read as a table.
            self.only = only
            # Only learn the reads (nothing is sent to the server): what the layers are made from.
            self.record_only = record_only

        def register_output(self, output) -> None:
            if self.record_only:
                self.reads.setdefault(output.name, set())
            elif self.only is None or output.name in self.only:
                super().register_output(output)

        def register_flow(self, flow) -> None:
            import pyspark.sql.connect.proto as pb2
            from pyspark.pipelines.add_pipeline_analysis_context import add_pipeline_analysis_context

            if self.only is not None and flow.target not in self.only:
                return
            if self.record_only:
                relation = flow.func()._plan.plan(self._client)
                self.reads.setdefault(flow.target, set()).update(_named_tables(relation))
                self.kinds.setdefault(flow.target, set()).update(relation_kinds(relation))
                return
            with add_pipeline_analysis_context(
                spark=self._spark, dataflow_graph_id=self._dataflow_graph_id, flow_name=flow.name
            ):
                df = flow.func()
            relation = df._plan.plan(self._client)
            self.reads.setdefault(flow.target, set()).update(_named_tables(relation))
            details = pb2.PipelineCommand.DefineFlow.WriteRelationFlowDetails(relation=relation)
            inner = pb2.PipelineCommand.DefineFlow(
                dataflow_graph_id=self._dataflow_graph_id,
                flow_name=flow.name,
                target_dataset_name=flow.target,
                relation_flow_details=details,
                sql_conf=flow.spark_conf,
                source_code_location=_source_location(flow),
            )
            command = pb2.Command()
            command.pipeline_command.define_flow.CopyFrom(inner)
            self._client.execute_command(command)

    return DependencyRecordingRegistry


def _source_location(flow):
    from pyspark.pipelines.spark_connect_graph_element_registry import source_code_location_to_proto

    return source_code_location_to_proto(flow.source_code_location)


def _messages(message) -> Iterator:
    """``message`` and every protobuf message nested in it, at any depth."""
    yield message
    for descriptor, value in message.ListFields():
        if descriptor.type == descriptor.TYPE_MESSAGE:
            for item in ([value] if hasattr(value, "ListFields") else list(value)):
                if hasattr(item, "ListFields"):
                    yield from _messages(item)


def _named_tables(relation) -> set[str]:
    """Every `spark.read.table(...)` name inside a Spark Connect relation."""
    return {found.unparsed_identifier.split(".")[-1].strip("`") for found in _messages(relation)
            if found.DESCRIPTOR.full_name == "spark.connect.Read.NamedTable"}


def relation_kinds(relation) -> set[str]:
    """The ``rel_type`` of every Spark Connect relation inside ``relation`` (a by-name union as
    ``union_by_name``)."""
    kinds = ((found.WhichOneof("rel_type"), found) for found in _messages(relation)
             if found.DESCRIPTOR.full_name == "spark.connect.Relation")
    return {"union_by_name" if kind == "set_op" and found.set_op.by_name else kind
            for kind, found in kinds if kind is not None}


GRAPH_READS_PREFIX = "graph reads: "


def graph_reads(reads: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """For each dataset, the datasets of the graph it reads (not itself, not tables outside the graph)."""
    return {name: sorted(r for r in read if r in reads and r != name) for name, read in reads.items()}


def refresh_layers(reads: Mapping[str, set[str]]) -> list[list[str]]:
    """Datasets grouped so that each one comes after every dataset of the graph it reads."""
    pending = {name: set(needs) for name, needs in graph_reads(reads).items()}
    layers: list[list[str]] = []
    while pending:
        ready = sorted(name for name, needs in pending.items() if not needs)
        if not ready:
            raise PipelineRunError(f"the pipeline has a dependency cycle among {sorted(pending)}")
        layers.append(ready)
        for name in ready:
            del pending[name]
        for needs in pending.values():
            needs.difference_update(ready)
    return layers


def _new_graph(spark, conf) -> str:
    from pyspark.pipelines.spark_connect_pipeline import create_dataflow_graph

    return create_dataflow_graph(spark, default_catalog=None, default_database=DATABASE, sql_conf=dict(conf))


def _register(spark, paths, conf, only: Optional[Iterable[str]] = None, record_only: bool = False,
              graph_id: Optional[str] = None):
    """Load the definition files into a graph on the server (``graph_id``, else a new one; ``only``:
    just those datasets), or with ``record_only`` into none: then only the reads of every dataset
    are learnt."""
    from pyspark.pipelines.cli import register_definitions

    spec = _build_spec(paths, conf)
    if record_only:
        graph_id = "reads-only"
    elif graph_id is None:
        graph_id = _new_graph(spark, conf)
    registry = _graph_registry_class()(spark, graph_id, only=set(only) if only is not None else None,
                                       record_only=record_only)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pyspark prints "Loading definitions…" lines
            register_definitions(SPEC_PATH, registry, spec, spark, graph_id)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise PipelineRunError(
            f"the pipeline definitions in {PIPELINE_DIR / 'transformations'} could not be loaded: "
            f"{type(exc).__name__}: {message}"
        ) from exc
    return spec, graph_id, registry


def _run_graph(spark, paths, conf, full_refresh, dry_run, on_event, say, log: RunLog,
               refresh_start: Optional[Iterable[str]] = None) -> RunResult:
    registering = time.monotonic()
    # A dry run validates the whole graph on the server; a run learns the graph's shape here and
    # registers the datasets it refreshes when it runs them. The first run's graph is created
    # meanwhile: the server's first graph opens the metastore, seconds in a new JVM.
    with ThreadPoolExecutor(max_workers=1) as background:
        creating = None if dry_run else background.submit(_new_graph, spark, conf)
        spec, graph_id, registry = _register(spark, paths, conf, record_only=not dry_run)
        first_graph = creating.result() if creating is not None else None
    reads = registry.reads
    log.write(f"pipeline definitions loaded in {time.monotonic() - registering:.1f} s", echo=False)
    # What each dataset reads of the graph: with the flows' events below, where a run's time went
    # (benchmarks/run_timeline.py).
    log.write(f"{GRAPH_READS_PREFIX}{json.dumps(graph_reads(reads), sort_keys=True)}", echo=False)
    unknown = sorted(set(full_refresh) - set(reads))
    if unknown:
        raise PipelineRunError(
            f"--full-refresh names tables the pipeline does not define: {', '.join(unknown)} "
            f"(it defines {', '.join(sorted(reads))})"
        )
    result = RunResult(completed=False)
    if dry_run:
        layers = [sorted(reads)]
    else:
        layers, why = refresh_plan(reads, registry.kinds)
        log.write(f"refresh plan: {why}", echo=False)
    if refresh_start is not None and not dry_run:
        # Only what changed and what depends on it (file_records.local.freshness decides the start).
        selected = downstream(reads, [*refresh_start, *full_refresh])
        log.write(f"refreshing {len(selected)} of {len(reads)} tables: {', '.join(sorted(selected))}", echo=False)
        layers = [kept for kept in ([name for name in layer if name in selected] for layer in layers) if kept]
    result.refreshed = [name for layer in layers for name in layer]
    # Each table's line is shown when its flow completes, with its rows from the committed files.
    progress = Progress(total=len(result.refreshed), show=say,
                        count=(lambda table: None) if dry_run else (lambda table: row_count(paths.root, table)))
    for number, layer in enumerate(layers):
        began = time.monotonic()
        if not dry_run:
            # A graph serves one run on the Connect server; each run gets a freshly registered one.
            spec, graph_id, _ = _register(spark, paths, conf, only=layer,
                                          graph_id=first_graph if number == 0 else None)
        registered = time.monotonic()
        try:
            _run_layer(spark, graph_id, spec, layer, [t for t in full_refresh if t in layer], dry_run,
                       on_event, result, progress, log)
        except PipelineRunError:
            progress.layer_done([t for t in layer if t in progress.failed], {}, ok=False)
            raise
        if not dry_run:
            counts = _layer_counts(paths, [t for t in layer if t not in progress.rows])
            progress.layer_done(layer, counts)
            result.table_counts.update({k: v for k, v in progress.rows.items() if v is not None})
        log.write(f"run {number + 1} of {len(layers)} ({', '.join(layer)}): registered in {registered - began:.1f} s, "
                  f"run and counted in {time.monotonic() - registered:.1f} s", echo=False)
    result.completed = True
    return result


def refresh_plan(reads: Mapping[str, set[str]], kinds: Mapping[str, set[str]]) -> tuple[list[list[str]], str]:
    """The runs that refresh the graph, and why: one run of every dataset, which the engine orders
    by what each flow reads; or, when a flow's plan has a step the Connect server analyses at once
    (it hides reads from the engine, apache/spark#57897; file_records.frames), one run per layer."""
    layers = refresh_layers(reads)
    eager = {name: sorted(found & EAGER_RELATIONS) for name, found in kinds.items() if found & EAGER_RELATIONS}
    if eager:
        named = "; ".join(f"{name} uses {', '.join(steps)}" for name, steps in sorted(eager.items()))
        return layers, f"layer by layer, because the engine cannot see every read ({named})"
    return [[name for layer in layers for name in layer]], "one run; the engine orders the flows by their reads"


def _layer_counts(paths: StatePaths, layer: Sequence[str]) -> dict[str, Optional[int]]:
    """Rows per table, from the parquet footers of its committed files (a Spark count per table
    costs a job each); None for a dataset with no table (a view)."""
    return {name: row_count(paths.root, name) for name in layer}


def _run_layer(spark, graph_id, spec, layer, full_refresh, dry_run, on_event, result: RunResult,
               progress: Progress, log: RunLog) -> None:
    from pyspark.pipelines.spark_connect_pipeline import start_run

    events = start_run(
        spark,
        graph_id,
        full_refresh=full_refresh,
        full_refresh_all=False,
        refresh=[name for name in layer if name not in full_refresh],
        dry=dry_run,
        storage=spec.storage,
    )
    completed = False
    try:
        for item in events:
            message = _event_text(item)
            if message is None:
                continue
            result.events.append(message)
            log.write(f"event {_event_time(item)}: {message.rstrip()}")
            progress.event(message)
            on_event(message)
            if _COMPLETED.search(message):
                completed = True
            elif _FLOW_FAILED.search(message):
                summary = failures.summarise([message])
                if summary.error_class is not None and not summary.retryable:
                    # Retrying cannot fix it (a rejected token, a query the API refuses): stop now.
                    log.write(f"stopping the run: {summary.error_class} is not retryable", echo=False)
                    raise PipelineRunError(_failure_message(summary, log))
    except PipelineRunError:
        raise
    except Exception as exc:
        if completed and _ACCUMULATOR_BUG.search(str(exc)):
            return
        log.write(f"the run ended with {type(exc).__name__}: {exc}")
        raise PipelineRunError(_failure_message(failures.summarise(result.events, str(exc)), log)) from exc
    if not completed:
        raise PipelineRunError(_failure_message(failures.summarise(result.events), log))


def _failure_message(summary: failures.FailureSummary, log: RunLog) -> str:
    return "\n".join(summary.lines(log.path))


def table_counts(paths: StatePaths, known: Optional[Mapping[str, int]] = None) -> dict[str, int]:
    """Rows of every table of the state directory: ``known`` counts, else from the parquet footers."""
    known = known or {}
    return {name: known[name] if name in known else row_count(paths.root, name) or 0
            for name in table_names(paths.root)}


__all__ = [
    "LocalSparkError",
    "PipelineRunError",
    "RunResult",
    "StateLockedError",
    "run_pipeline",
    "state_lock",
    "protected_tables",
]


@contextmanager
def reading_session(state_dir: Path) -> Iterator:
    """A small classic Spark session over the tables of ``state_dir``, under its lock (the
    embedded metastore takes one JVM at a time). A missing or locked state directory is a
    :class:`StateError` before any JVM starts."""
    from file_records.local.spark import classic_session

    paths = StatePaths(Path(state_dir).resolve())
    if paths.root.exists() and not paths.root.is_dir():
        raise StateError(f"--state-dir {state_dir} is a file, not a state directory")
    if not paths.exists():
        raise StateError(f"no pipeline state in {state_dir}: run `file-records run` (or `run --demo`) first")
    paths.check_location()
    with state_lock(paths):
        spark = classic_session(paths, LocalSparkSettings(spark_master="local[1]"))
        try:
            yield spark
        finally:
            spark.stop()
