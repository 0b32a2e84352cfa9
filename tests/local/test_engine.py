"""LocalSpark: one local Spark per run, or kept for the next run of the same process (the demo's days)."""

from __future__ import annotations

import pytest

from file_records.local import engine
from file_records.local.runlog import RunLog
from file_records.local.spark import LocalSparkSettings, StatePaths


class FakeConf:
    def __init__(self, values):
        self.values = dict(values)

    def set(self, key, value):
        self.values[key] = value

    def unset(self, key):
        self.values.pop(key)


class FakeSession:
    def __init__(self, conf):
        self.conf = FakeConf(conf)
        self.stopped = False

    def stop(self):
        self.stopped = True


class FakeArchive:
    def __init__(self):
        self.finished = []

    def status(self):
        return "ready"

    def finish(self, succeeded):
        self.finished.append(succeeded)
        return None


@pytest.fixture
def local(monkeypatch, tmp_path):
    """LocalSpark on fakes: records every start and JVM exit."""
    started, exited, archives = [], [], []
    alive = {"jvm": False}

    def connect(paths, settings, extra_conf=None, archive=None):
        alive["jvm"] = True
        started.append(FakeSession(extra_conf or {}))
        return started[-1]

    def stop_jvm():
        alive["jvm"] = False
        exited.append(True)

    def make_archive(settings):
        archives.append(FakeArchive())
        return archives[-1]

    monkeypatch.setattr(engine, "connect_session", connect)
    monkeypatch.setattr(engine, "jvm_alive", lambda: alive["jvm"])
    monkeypatch.setattr(engine, "stop_jvm", stop_jvm)
    monkeypatch.setattr(engine, "class_archive", make_archive)
    log = RunLog.create(tmp_path)
    yield {"started": started, "exited": exited, "archives": archives, "alive": alive, "log": log,
           "paths": StatePaths(tmp_path)}
    log.close()


def test_one_run_starts_and_stops_its_own_spark(local):
    spark = engine.LocalSpark()
    spark.session(local["paths"], LocalSparkSettings(), {"a": "1"}, local["log"])
    spark.run_ended(succeeded=True, completed_for_archive=True)
    assert len(local["started"]) == 1 and local["started"][0].stopped and local["exited"] == [True]
    assert local["archives"][0].finished == [True]


def test_a_kept_spark_serves_the_next_run_with_its_settings(local):
    paths, settings = local["paths"], LocalSparkSettings()
    with engine.LocalSpark(keep=True) as spark:
        first = spark.session(paths, settings, {"a": "1", "day1": "x"}, local["log"])
        spark.run_ended(succeeded=True, completed_for_archive=True)
        assert local["exited"] == []
        second = spark.session(paths, settings, {"a": "2"}, local["log"])
        assert second is first and len(local["started"]) == 1
        assert second.conf.values == {"a": "2"}  # the previous run's keys do not linger
        spark.run_ended(succeeded=True, completed_for_archive=True)
        local["log"].close()  # as run_pipeline does after each run
    assert local["exited"] == [True] and first.stopped
    assert "local Spark stopped in" in local["log"].path.read_text()  # the last run's log records the stop
    assert local["archives"][0].finished == [True]  # once, when the JVM exits: its class list is complete
    assert "local Spark kept from this process's previous run" in local["log"].path.read_text()


def test_other_settings_or_a_failed_run_start_a_new_spark(local):
    paths = local["paths"]
    with engine.LocalSpark(keep=True) as spark:
        spark.session(paths, LocalSparkSettings(), {}, local["log"])
        spark.run_ended(succeeded=True, completed_for_archive=True)
        spark.session(paths, LocalSparkSettings(jit="full"), {}, local["log"])
        assert len(local["started"]) == 2 and local["exited"] == [True]
        spark.run_ended(succeeded=False, completed_for_archive=False)
        assert local["exited"] == [True, True]  # a failed run never leaves its Spark for the next
        assert local["archives"][1].finished == [False]
        spark.session(paths, LocalSparkSettings(jit="full"), {}, local["log"])
        local["alive"]["jvm"] = False  # the JVM died between runs
        spark.run_ended(succeeded=True, completed_for_archive=True)
        spark.session(paths, LocalSparkSettings(jit="full"), {}, local["log"])
        assert len(local["started"]) == 4
