"""Runs the pipeline in pipelines/ on local OSS Spark, the way `spark-pipelines run` does,
with a persistent catalog, a lock on the state directory and readable progress."""

from __future__ import annotations

import contextlib
import fcntl
import io
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional, Sequence

from file_records import pipelines
from file_records.errors import PipelineRunError, StateError, UsageError
from file_records.local.spark import LocalSparkError, LocalSparkSettings, StatePaths, connect_session

PIPELINE_DIR = Path(pipelines.__file__).resolve().parent
SPEC_PATH = PIPELINE_DIR / "spark-pipeline.yml"
DATABASE = "default"

# pyspark 4.2.x / 4.3.0: after a run that used a Python data source has COMPLETED, the event
# stream ends with this error (SPARK-59135, fixed upstream). Only this, only after completion,
# is treated as success.
_ACCUMULATOR_BUG = re.compile(r"UNKNOWN_RESPONSE.*__python_accumulator__", re.DOTALL)
_COMPLETED = re.compile(r"Run is COMPLETED", re.IGNORECASE)
_FAILED = re.compile(r"Run is (FAILED|CANCELED)|failed|FAILED", re.IGNORECASE)


class StateLockedError(StateError):
    """Another process holds the state directory."""


@dataclass
class RunResult:
    completed: bool
    table_counts: dict[str, int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    seconds: float = 0.0


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
    """Bronze tables keep history the sources cannot give again; they are never reset."""
    return [name for name in names if name.startswith("bronze_")]


def check_full_refresh(names: Sequence[str]) -> None:
    refused = protected_tables(names)
    if refused:
        raise UsageError(
            f"refusing to fully refresh {', '.join(refused)}: bronze tables hold every snapshot taken so "
            "far and the source APIs cannot return history. Delete the state directory to start over."
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


def run_pipeline(
    state_dir: Path,
    conf: Mapping[str, str],
    spark_settings: LocalSparkSettings,
    full_refresh: Sequence[str] = (),
    dry_run: bool = False,
    on_event: Callable[[str], None] = lambda message: None,
) -> RunResult:
    check_full_refresh(full_refresh)
    paths = StatePaths(state_dir.resolve()).create()
    started = time.monotonic()
    with state_lock(paths):
        spark = connect_session(paths, spark_settings, extra_conf=conf)
        try:
            result = _run_graph(spark, paths, conf, full_refresh, dry_run, on_event)
            if result.completed and not dry_run:
                result.table_counts = table_counts(spark)
        finally:
            spark.stop()
    result.seconds = time.monotonic() - started
    return result


def _graph_registry_class():
    from pyspark.pipelines.spark_connect_graph_element_registry import SparkConnectGraphElementRegistry

    class DependencyRecordingRegistry(SparkConnectGraphElementRegistry):
        """Registers flows as usual and remembers which tables each one reads.

        OSS Spark 4.3 resolves a flow's reads against the catalog when the table already
        exists there, and then runs downstream materialized views before (or while) their
        upstream refreshes (apache/spark#57897). Knowing the reads lets the runner refresh the
        graph layer by layer, which gives the dependency order back.
        """

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.reads: dict[str, set[str]] = {}

        def register_flow(self, flow) -> None:
            import pyspark.sql.connect.proto as pb2
            from pyspark.pipelines.add_pipeline_analysis_context import add_pipeline_analysis_context

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


def _named_tables(message) -> set[str]:
    """Every `spark.read.table(...)` name inside a Spark Connect relation."""
    found: set[str] = set()
    for descriptor, value in message.ListFields():
        if descriptor.name == "named_table" and hasattr(value, "unparsed_identifier"):
            found.add(value.unparsed_identifier.split(".")[-1].strip("`"))
        if descriptor.type == descriptor.TYPE_MESSAGE:
            items = [value] if hasattr(value, "ListFields") else list(value)
            for item in items:
                if hasattr(item, "ListFields"):
                    found |= _named_tables(item)
    return found


def refresh_layers(reads: Mapping[str, set[str]]) -> list[list[str]]:
    """Datasets grouped so that each one comes after every dataset of the graph it reads."""
    datasets = set(reads)
    pending = {name: {r for r in reads[name] if r in datasets and r != name} for name in datasets}
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


def _register(spark, paths, conf):
    from pyspark.pipelines.cli import register_definitions
    from pyspark.pipelines.spark_connect_pipeline import create_dataflow_graph

    spec = _build_spec(paths, conf)
    graph_id = create_dataflow_graph(spark, default_catalog=None, default_database=DATABASE, sql_conf=dict(conf))
    registry = _graph_registry_class()(spark, graph_id)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pyspark prints "Loading definitions…" lines
            register_definitions(SPEC_PATH, registry, spec, spark, graph_id)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise PipelineRunError(
            f"the pipeline definitions in {PIPELINE_DIR / 'transformations'} could not be loaded: "
            f"{type(exc).__name__}: {message}"
        ) from exc
    return spec, graph_id, registry.reads


def _run_graph(spark, paths, conf, full_refresh, dry_run, on_event) -> RunResult:
    spec, graph_id, reads = _register(spark, paths, conf)
    unknown = sorted(set(full_refresh) - set(reads))
    if unknown:
        raise PipelineRunError(
            f"--full-refresh names tables the pipeline does not define: {', '.join(unknown)} "
            f"(it defines {', '.join(sorted(reads))})"
        )
    result = RunResult(completed=False)
    layers = [sorted(reads)] if dry_run else refresh_layers(reads)
    for number, layer in enumerate(layers):
        if number:
            # A graph serves one run on the Connect server; each layer gets a freshly registered one.
            spec, graph_id, _ = _register(spark, paths, conf)
        _run_layer(spark, graph_id, spec, layer, [t for t in full_refresh if t in layer], dry_run, on_event, result)
    result.completed = True
    return result


def _run_layer(spark, graph_id, spec, layer, full_refresh, dry_run, on_event, result: RunResult) -> None:
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
            on_event(message)
            if _COMPLETED.search(message):
                completed = True
    except Exception as exc:
        if completed and _ACCUMULATOR_BUG.search(str(exc)):
            return
        raise PipelineRunError(_summarise_failure(exc, result.events)) from exc
    if not completed:
        raise PipelineRunError(_summarise_failure(None, result.events))


def _summarise_failure(exc: Optional[BaseException], events: list[str]) -> str:
    failures = [message for message in events if _FAILED.search(message)]
    lines = ["the pipeline run did not complete."]
    if failures:
        lines.append("What failed:")
        lines.extend(f"  {message.strip()[:2000]}" for message in failures[-5:])
    if exc is not None:
        lines.append(f"Error: {type(exc).__name__}: {str(exc).strip()[:2000]}")
    return "\n".join(lines)


def table_counts(spark) -> dict[str, int]:
    names = sorted(row.tableName for row in spark.sql(f"SHOW TABLES IN {DATABASE}").collect() if not row.isTemporary)
    return {name: spark.read.table(f"{DATABASE}.{name}").count() for name in names}


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
    with state_lock(paths):
        spark = classic_session(paths, LocalSparkSettings(spark_master="local[1]"))
        try:
            yield spark
        finally:
            spark.stop()
