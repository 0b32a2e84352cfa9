"""What each table's queries cost in one local run, from Spark's event log: executor CPU, task
time (CPU plus waiting: for a core, for I/O, for Python workers) and garbage collection, per table
written, most expensive first.

Run the pipeline with an event log, then read it:

    FILE_RECORDS_EVENT_LOG_DIR=/tmp/events .venv/bin/file-records run ...
    .venv/bin/python benchmarks/table_cpu.py /tmp/events/<application id>

A query is charged to the table its root command writes: a materialized view's
``CreateDataSourceTableAsSelectCommand`` / ``SaveAsV1TableCommand``, or a streaming flow's query
(named after its table). Queries of neither kind (the runner's counts, the engine's own checks)
are summed as ``(other)``.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

OTHER = "(other)"
_WRITTEN_TABLE = re.compile(r"(?:TableAsSelectCommand|SaveAsV1TableCommand)\nArguments: (?:`[^`]+`\.)*`(\w+)`")
_STREAMING_QUERY = re.compile(r"^(?:\w+\.)*(\w+)\s+id = [0-9a-f-]{36}")


@dataclass
class Cost:
    cpu_seconds: float = 0.0
    task_seconds: float = 0.0
    gc_seconds: float = 0.0
    jobs: int = 0


def _table_of(start: dict) -> str | None:
    streaming = _STREAMING_QUERY.match(start.get("description") or "")
    if streaming:
        return streaming.group(1)
    written = _WRITTEN_TABLE.search(start.get("physicalPlanDescription") or "")
    return written.group(1) if written else None


def cost_by_table(events: Iterable[dict]) -> dict[str, Cost]:
    """Executor CPU, task time and GC per table, from the events of one application."""
    table_of_execution: dict[int, str | None] = {}
    execution_of_stage: dict[int, int | None] = {}
    costs: dict[str, Cost] = {}
    for event in events:
        kind = event.get("Event", "")
        if kind.endswith("SQLExecutionStart"):
            execution = event["executionId"]
            root = event.get("rootExecutionId", execution)
            own = _table_of(event)
            table_of_execution[execution] = own if own is not None else table_of_execution.get(root)
        elif kind == "SparkListenerJobStart":
            execution = event.get("Properties", {}).get("spark.sql.execution.id")
            for stage in event.get("Stage IDs", []):
                execution_of_stage[stage] = int(execution) if execution is not None else None
            table = table_of_execution.get(int(execution)) if execution is not None else None
            costs.setdefault(table or OTHER, Cost()).jobs += 1
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            metrics = {item["Name"]: item.get("Value") for item in info.get("Accumulables", [])}
            execution = execution_of_stage.get(info["Stage ID"])
            table = table_of_execution.get(execution) if execution is not None else None
            cost = costs.setdefault(table or OTHER, Cost())
            cost.cpu_seconds += int(metrics.get("internal.metrics.executorCpuTime", 0)) / 1e9
            cost.task_seconds += int(metrics.get("internal.metrics.executorRunTime", 0)) / 1e3
            cost.gc_seconds += int(metrics.get("internal.metrics.jvmGCTime", 0)) / 1e3
    return costs


def read_events(path: Path) -> Iterable[dict]:
    """The events of an event log: a file, or a rolling log's folder (``eventlog_v2_*``)."""
    # events_<n>_<application>: by n as a number, so events_10 follows events_9.
    files = sorted(path.glob("events_*"), key=lambda file: int(file.name.split("_")[1])) if path.is_dir() else [path]
    for file in files:
        with open(file, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event_log", type=Path, help="an event log file, or an eventlog_v2_* folder")
    costs = cost_by_table(read_events(parser.parse_args().event_log))
    print(f"{'executor CPU s':>15} {'task s':>8} {'GC s':>6} {'jobs':>5}  table")
    for table, cost in sorted(costs.items(), key=lambda item: -item[1].cpu_seconds):
        print(f"{cost.cpu_seconds:15.1f} {cost.task_seconds:8.1f} {cost.gc_seconds:6.1f} {cost.jobs:5d}  {table}")
    total = Cost(*(sum(getattr(c, name) for c in costs.values()) for name in ("cpu_seconds", "task_seconds",
                                                                              "gc_seconds", "jobs")))
    print(f"{total.cpu_seconds:15.1f} {total.task_seconds:8.1f} {total.gc_seconds:6.1f} {total.jobs:5d}  (total)")


if __name__ == "__main__":
    main()
