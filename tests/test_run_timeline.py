"""benchmarks/run_timeline.py: each flow's wait and run, and the critical path, from a run log."""

from __future__ import annotations

import json

import pytest

from benchmarks.run_timeline import parse, report
from file_records.local.runner import GRAPH_READS_PREFIX, graph_reads


def _event(at: str, flow: str, state: str) -> str:
    verb = "has" if state == "COMPLETED" else "is"
    return f"event {at}: Flow spark_catalog.default.{flow} {verb} {state}."


# a -> b, a -> c, (b, c) -> d; the run starts before midnight and ends after it.
LOG = [
    "File-records local run in /tmp/state; configuration keys: ...",
    GRAPH_READS_PREFIX + json.dumps({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}),
    *(_event("23:59:59.000", name, "QUEUED") for name in "abcd"),
    _event("23:59:59.100", "a", "STARTING"),
    _event("23:59:59.150", "a", "RUNNING"),
    _event("00:00:02.100", "a", "COMPLETED"),
    _event("00:00:03.000", "b", "STARTING"),
    _event("00:00:03.050", "c", "STARTING"),
    _event("00:00:04.000", "b", "COMPLETED"),
    _event("00:00:05.000", "c", "COMPLETED"),
    _event("00:00:06.000", "d", "STARTING"),
    _event("00:00:07.000", "d", "COMPLETED"),
    "event 00:00:08.200: Run is COMPLETED.",
]


def test_waits_and_the_critical_path():
    timeline = parse(LOG)
    # d waited for c, the later of what it reads; b's branch finished first and is not on the path
    assert [flow.name for flow in timeline.critical_path()] == ["a", "c", "d"]
    assert timeline.ready(timeline.flows["d"]) == pytest.approx(86405.0)
    lines = report(timeline)
    assert lines[-1] == ("from the first flow queued to the run's end: 9.20 s; on the critical path 5.95 s running "
                         "and 3.25 s waiting for the engine (35%)")
    assert "     0.95   1.95  c" in lines
    assert "     1.20         (the run's end, noticed)" in lines


def test_a_log_without_the_graph_is_refused():
    with pytest.raises(ValueError, match="graph reads"):
        parse([line for line in LOG if not line.startswith(GRAPH_READS_PREFIX)])


def test_a_log_where_no_flow_ran_is_refused():
    """An idle run (nothing new) logs no engine run at all."""
    with pytest.raises(ValueError, match="no flow ran"):
        parse(LOG[:2])


def test_graph_reads_keep_only_the_graph():
    assert graph_reads({"a": {"a", "outside"}, "b": {"a"}}) == {"a": [], "b": ["a"]}
