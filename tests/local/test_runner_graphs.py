"""Which graph each engine run gets, without Spark: fake registration and runs."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from file_records.local import runner
from file_records.local.runlog import RunLog

WAIT_SECONDS = 10


def _fakes(monkeypatch, kinds: dict) -> dict:
    """Registration that records what it was given, a graph factory that counts, runs that record
    their graph. The reads-only pass and the first graph's creation each wait for the other: they
    only both finish when they run at the same time."""
    calls: dict = {"created": [], "registered": [], "ran": []}
    reading, creating = threading.Event(), threading.Event()
    reads = {"bronze": set(), "silver": {"bronze"}, "gold": {"silver"}}

    def new_graph():
        calls["created"].append(len(calls["created"]) + 1)
        return f"graph-{len(calls['created'])}"

    def new_graph_meanwhile(spark, conf):
        creating.set()
        if not reading.wait(WAIT_SECONDS):
            raise AssertionError("the first graph was created after the definitions were read")
        return new_graph()

    def register(spark, paths, conf, only=None, record_only=False, graph_id=None):
        if record_only:
            reading.set()
            if not creating.wait(WAIT_SECONDS):
                raise AssertionError("the definitions were read before the first graph was created")
            graph_id = "reads-only"
        elif graph_id is None:
            graph_id = new_graph()
        calls["registered"].append((graph_id, None if only is None else sorted(only)))
        return SimpleNamespace(storage="s"), graph_id, SimpleNamespace(reads=reads, kinds=kinds)

    def run_layer(spark, graph_id, spec, layer, *args):
        calls["ran"].append((graph_id, list(layer)))

    monkeypatch.setattr(runner, "_new_graph", new_graph_meanwhile)
    monkeypatch.setattr(runner, "_register", register)
    monkeypatch.setattr(runner, "_run_layer", run_layer)
    monkeypatch.setattr(runner, "_layer_counts", lambda paths, layer: {name: 1 for name in layer})
    return calls


def _run_graph(tmp_path, dry_run=False):
    from file_records.local.spark import StatePaths

    log = RunLog.create(tmp_path)
    try:
        return runner._run_graph(None, StatePaths(tmp_path), {}, (), dry_run, lambda message: None,
                                 lambda line: None, log)
    finally:
        log.close()


def test_the_first_graph_is_created_while_the_definitions_are_read_and_serves_the_first_run(monkeypatch, tmp_path):
    calls = _fakes(monkeypatch, kinds={})
    result = _run_graph(tmp_path)
    assert result.completed
    assert calls["created"] == [1]
    assert calls["ran"] == [("graph-1", ["bronze", "silver", "gold"])]


def test_each_layer_gets_its_own_graph_the_first_one_created_early(monkeypatch, tmp_path):
    calls = _fakes(monkeypatch, kinds={"gold": {"with_columns"}})
    _run_graph(tmp_path)
    assert calls["ran"] == [("graph-1", ["bronze"]), ("graph-2", ["silver"]), ("graph-3", ["gold"])]
    assert calls["created"] == [1, 2, 3]


def test_a_dry_run_creates_no_graph_before_registering(monkeypatch, tmp_path):
    calls = _fakes(monkeypatch, kinds={})
    monkeypatch.setattr(runner, "_new_graph", lambda spark, conf: pytest.fail("a dry run made a spare graph"))
    _run_graph(tmp_path, dry_run=True)
    assert calls["registered"] == [("graph-1", None)]
    assert calls["ran"] == [("graph-1", ["bronze", "gold", "silver"])]
