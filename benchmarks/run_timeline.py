"""Where a local run's time went, flow by flow, from its run log (``<state-dir>/logs/run-*.log``).

For each flow: when it was ready (everything of the graph it reads had completed), when the engine
started it, and how long it ran. Then the critical path, the chain of flows that set the run's
length (from the last flow to complete back through what each waited for), split into running
and waiting. A ready flow waits for the engine's scheduler: on OSS Spark 4.3 it looks at the flows
every ``spark.sql.pipelines.execution.streamstate.pollingInterval`` whole seconds (at 0 it never
sleeps and holds a core) and plans the flows it starts one after the other.

    .venv/bin/python benchmarks/run_timeline.py <state-dir>/logs/run-<time>.log

The log names what each dataset reads (a ``graph reads:`` line) and every event with the engine's
time; times are of one day and may cross midnight once. A layer-by-layer refresh (the runner's
fallback, file_records.local.runner.refresh_plan) logs several engine runs: the time between them,
spent registering the next layer, counts as waiting.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

# The repository root, so that `python benchmarks/run_timeline.py` finds the package when not installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from file_records.local.progress import flow_state
from file_records.local.runner import GRAPH_READS_PREFIX

# The runner's "event <engine time>: <message>" lines.
_EVENT = re.compile(r"^event (\d\d):(\d\d):(\d\d\.\d+): (.*)")
_RUN_COMPLETED = re.compile(r"^Run is COMPLETED")
_DAY = 24 * 3600.0


@dataclass
class Flow:
    name: str
    queued: Optional[float] = None
    started: Optional[float] = None
    completed: Optional[float] = None


@dataclass
class Timeline:
    flows: dict[str, Flow]
    reads: dict[str, list[str]]
    first_queued: float
    run_completed: Optional[float]

    def ran(self) -> list[Flow]:
        return sorted((f for f in self.flows.values() if f.started is not None and f.completed is not None),
                      key=lambda f: (f.started, f.name))

    def ready(self, flow: Flow) -> float:
        """When everything ``flow`` reads of this run had completed (the run's start if it reads none)."""
        done = [self.flows[name].completed for name in self.reads.get(flow.name, ())
                if name in self.flows and self.flows[name].completed is not None]
        return max(done, default=self.first_queued)

    def critical_path(self) -> list[Flow]:
        """From the first flow to the last one to complete, each the latest to complete of what the
        next one reads."""
        ran = {flow.name: flow for flow in self.ran()}
        if not ran:
            return []
        path = [max(ran.values(), key=lambda f: f.completed)]
        while True:
            before = [ran[name] for name in self.reads.get(path[-1].name, ()) if name in ran]
            if not before:
                return path[::-1]
            path.append(max(before, key=lambda f: f.completed))


def parse(lines: Iterable[str]) -> Timeline:
    """The flows' times (seconds from midnight of the first event's day) and the graph's reads."""
    flows: dict[str, Flow] = {}
    reads: dict[str, list[str]] = {}
    first_queued: Optional[float] = None
    run_completed: Optional[float] = None
    last = None
    for line in lines:
        if line.startswith(GRAPH_READS_PREFIX):
            reads = json.loads(line[len(GRAPH_READS_PREFIX):])
            continue
        found = _EVENT.match(line)
        if not found:
            continue
        hours, minutes, seconds, message = found.groups()
        at = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        if last is not None and at < last - _DAY / 2:
            at += _DAY  # past midnight
        last = at
        flow_event = flow_state(message)
        if flow_event is None:
            if _RUN_COMPLETED.match(message):
                run_completed = at
            continue
        name, state = flow_event
        flow = flows.setdefault(name, Flow(name))
        if state == "QUEUED" and flow.queued is None:
            flow.queued = at
            first_queued = at if first_queued is None else min(first_queued, at)
        elif state == "STARTING" and flow.started is None:
            flow.started = at
        elif state == "COMPLETED":
            flow.completed = at
    if first_queued is None:
        raise ValueError("no flow ran in this log: a run that found nothing new, or not a run log of `file-records run`")
    if not reads:
        raise ValueError(f"no '{GRAPH_READS_PREFIX.strip()}' line in this log (a run of an older version)")
    return Timeline(flows, reads, first_queued, run_completed)


def report(timeline: Timeline) -> list[str]:
    start = timeline.first_queued
    lines = [f"{'ready s':>8} {'start s':>8} {'waited s':>9} {'ran s':>6}  flow"]
    for flow in timeline.ran():
        ready = timeline.ready(flow)
        lines.append(f"{ready - start:8.2f} {flow.started - start:8.2f} {flow.started - ready:9.2f} "
                     f"{flow.completed - flow.started:6.2f}  {flow.name}")
    path = timeline.critical_path()
    if not path:
        return lines
    lines += ["", "critical path:", f"{'waited s':>9} {'ran s':>6}  flow"]
    waited = ran = 0.0
    for flow in path:
        wait, run = flow.started - timeline.ready(flow), flow.completed - flow.started
        waited, ran = waited + wait, ran + run
        lines.append(f"{wait:9.2f} {run:6.2f}  {flow.name}")
    end = path[-1].completed
    if timeline.run_completed is not None:
        tail = timeline.run_completed - end
        waited, end = waited + tail, timeline.run_completed
        lines.append(f"{tail:9.2f} {'':>6}  (the run's end, noticed)")
    total = end - start
    lines.append(f"from the first flow queued to the run's end: {total:.2f} s; on the critical path "
                 f"{ran:.2f} s running and {waited:.2f} s waiting for the engine ({waited / total:.0%})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_log", type=Path, help="a run log: <state-dir>/logs/run-<time>.log")
    path = parser.parse_args().run_log
    try:
        with open(path, encoding="utf-8") as lines:
            timeline = parse(lines)
    except (OSError, ValueError) as exc:
        print(f"run_timeline: {path}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print("\n".join(report(timeline)))


if __name__ == "__main__":
    main()
