"""The run log: one file per run, the last 20 kept, Python logging and the JVM's output in it."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from file_records.local import runlog
from file_records.local.runlog import RunLog, ThrottledConsoleHandler, prune_logs, python_logging_to


def test_one_log_per_run_and_the_last_20_kept(tmp_path):
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    paths = []
    for i in range(23):
        log = RunLog.create(tmp_path, now=start + timedelta(seconds=i))
        log.write("hello")
        log.close()
        paths.append(log.path)
    kept = sorted((tmp_path / "logs").glob("run-*.log"))
    assert len(kept) == 20 and kept == paths[3:]
    assert paths[0].name == "run-20260102T030405-000Z.log"
    assert paths[-1].read_text() == "hello\n"


def test_prune_keeps_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    for i in range(3):
        (tmp_path / f"run-2026010{i}T000000-000Z.log").write_text("")
    assert [p.name for p in prune_logs(tmp_path, keep=1)] == ["run-20260100T000000-000Z.log",
                                                              "run-20260101T000000-000Z.log"]
    assert (tmp_path / "notes.txt").exists()


def test_verbose_echoes_every_line(tmp_path):
    echoed: list[str] = []
    log = RunLog.create(tmp_path, echo=echoed.append)
    log.write("engine says\n")
    log.write("quiet", echo=False)
    log.close()
    assert echoed == ["engine says"]
    assert log.path.read_text() == "engine says\nquiet\n"


def test_python_logging_goes_to_the_log_and_progress_to_the_console(tmp_path, capsys):
    shown: list[str] = []
    log = RunLog.create(tmp_path)
    with python_logging_to(log, shown.append):
        logging.getLogger("some.library").warning("Failed to automatically resolve config from host metadata")
        logging.getLogger("file_records.progress").info("read 1,000 records")
        logging.getLogger("file_records.progress").info("read 2,000 records")  # within 5 s: not shown
    log.close()
    text = log.path.read_text()
    assert "Failed to automatically resolve config" in text and "read 2,000 records" in text
    assert shown == ["read 1,000 records"]
    captured = capsys.readouterr()
    assert "resolve config" not in captured.err + captured.out


def test_throttle():
    now = [0.0]
    shown: list[str] = []
    handler = ThrottledConsoleHandler(shown.append, interval=5, clock=lambda: now[0])
    for t, msg in [(0, "a"), (1, "b"), (5.5, "c"), (6, "d"), (11, "e")]:
        now[0] = t
        handler.emit(logging.makeLogRecord({"msg": msg}))
    assert shown == ["a", "c", "e"]


def _fake_jvm(monkeypatch, script: str, **extra_popen):
    """pyspark's JVM launcher replaced by a Python process running ``script``; returns the module."""
    import pyspark.core.context as spark_context

    class Gateway:
        pass

    def fake_launch(conf=None, popen_kwargs=None):  # pyspark's launch_gateway signature
        gateway = Gateway()
        gateway.proc = subprocess.Popen([sys.executable, "-c", script], **extra_popen, **(popen_kwargs or {}))
        return gateway

    monkeypatch.setattr(spark_context, "launch_gateway", fake_launch)
    return spark_context, fake_launch


def test_jvm_output_goes_to_the_log(tmp_path, monkeypatch):
    """The launcher pyspark uses gets stdout/stderr pipes, pumped into the log."""
    spark_context, fake_launch = _fake_jvm(
        monkeypatch, "import sys; print('JVM stdout'); print('file-records progress: 10 files', file=sys.stderr); "
        "print('JVM stderr', file=sys.stderr)")
    shown: list[str] = []
    log = RunLog.create(tmp_path)
    with runlog.jvm_output_to(runlog.OutputRelay(log, shown.append)) as threads:
        gateway = spark_context.launch_gateway(None, {})
        gateway.proc.wait(10)
        for thread in threads:
            thread.join(10)
    assert spark_context.launch_gateway is fake_launch
    log.close()
    text = log.path.read_text()
    assert "JVM stdout" in text and "JVM stderr" in text
    assert shown == ["10 files"]


def test_a_kept_jvm_writes_into_each_runs_log_in_turn(tmp_path, monkeypatch):
    """The demo's days share one JVM: after point_to, its output goes to the next run's log."""
    spark_context, _ = _fake_jvm(
        monkeypatch, "import sys; print('day 1', flush=True); sys.stdin.readline(); print('day 2')",
        stdin=subprocess.PIPE)
    first, second = RunLog(tmp_path / "first.log"), RunLog(tmp_path / "second.log")
    relay = runlog.OutputRelay(first)
    with runlog.jvm_output_to(relay) as threads:
        gateway = spark_context.launch_gateway(None, {})
    deadline = time.monotonic() + 10
    while "day 1" not in first.path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    relay.point_to(second)
    gateway.proc.stdin.write(b"go\n")
    gateway.proc.stdin.close()
    gateway.proc.wait(10)
    threads[0].join(10)
    assert first.path.read_text() == "day 1\n"
    assert second.path.read_text() == "day 2\n"
