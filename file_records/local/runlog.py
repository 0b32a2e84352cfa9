"""One log file per local run: everything the engine says goes there, not to the console.

``<state>/logs/run-<UTC timestamp>.log`` receives the Spark JVM's stdout and stderr (log4j, the
Python data-source workers it starts, their tracebacks), the pipeline's event messages and the
Python-side logging of the run. The console shows file-records' own lines; with ``--verbose``
(or ``--debug``) it shows the engine output too. The last :data:`KEEP_LOGS` logs are kept.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional, TextIO

from file_records.connectors.progress import PROGRESS_LOGGER, PROGRESS_PREFIX

KEEP_LOGS = 20
LOGS_DIR = "logs"
PROGRESS_INTERVAL_SECONDS = 5.0
# A Python data-source worker has no logging set up; a progress line it prints to stderr with
# PROGRESS_PREFIX is shown on the console (the rest of the worker's output stays in the log).
# Loggers that would reach the console (through Python's last-resort handler) and belong in the log.
# (Never pyspark's SQLQueryContextLogger / DataFrameQueryContextLogger: created here as plain
# loggers, pyspark's exception conversion would fail on them.)
NOISY_LOGGERS = ("py4j", "pyspark", "databricks", "urllib3", "grpc")


def log_name(now: Optional[datetime] = None) -> str:
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"run-{now.strftime('%Y%m%dT%H%M%S')}-{now.microsecond // 1000:03d}Z.log"


def prune_logs(directory: Path, keep: int = KEEP_LOGS) -> list[Path]:
    """Delete all but the newest ``keep`` run logs (by name: the names sort by time); returns
    the deleted paths."""
    logs = sorted(directory.glob("run-*.log"))
    doomed = logs[: max(0, len(logs) - keep)]
    for path in doomed:
        try:
            path.unlink()
        except OSError:
            pass
    return doomed


class RunLog:
    """The run's log file; :meth:`write` is safe from several threads."""

    def __init__(self, path: Path, echo: Optional[Callable[[str], None]] = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: TextIO = open(path, "a", encoding="utf-8", errors="replace")
        self.echo = echo  # --verbose: every line also goes here

    @classmethod
    def create(cls, state_root: Path, keep: int = KEEP_LOGS, echo: Optional[Callable[[str], None]] = None,
               now: Optional[datetime] = None) -> "RunLog":
        directory = state_root / LOGS_DIR
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / log_name(now)
        log = cls(path, echo)
        prune_logs(directory, keep)
        return log

    def write(self, text: str, echo: bool = True) -> None:
        if not text.endswith("\n"):
            text += "\n"
        with self._lock:
            if self._file.closed:
                return
            self._file.write(text)
            self._file.flush()
        if echo and self.echo is not None:
            try:
                self.echo(text.rstrip("\n"))
            except Exception:  # noqa: BLE001 - the console must never stop the log
                pass

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


class _LogHandler(logging.Handler):
    def __init__(self, log: RunLog) -> None:
        super().__init__(logging.DEBUG)
        self.log = log
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log.write(self.format(record))
        except Exception:  # noqa: BLE001
            self.handleError(record)


class ThrottledConsoleHandler(logging.Handler):
    """Progress records on the console, at most one every ``interval`` seconds."""

    def __init__(self, show: Callable[[str], None], interval: float = PROGRESS_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(logging.INFO)
        self.show = show
        self.interval = interval
        self.clock = clock
        self._last: Optional[float] = None

    def emit(self, record: logging.LogRecord) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return
        self._last = now
        try:
            self.show(record.getMessage())
        except Exception:  # noqa: BLE001
            self.handleError(record)


@contextmanager
def python_logging_to(log: RunLog, show_progress: Callable[[str], None]) -> Iterator[None]:
    """For the run: every Python log record goes to the run log (also echoed with --verbose), and
    nothing but ``file_records.progress`` reaches the console."""
    root = logging.getLogger()
    handler = _LogHandler(log)
    progress_logger = logging.getLogger(PROGRESS_LOGGER)
    progress_handler = ThrottledConsoleHandler(show_progress)
    saved_root = (root.level, list(root.handlers))
    present = [name for name in NOISY_LOGGERS if name in logging.root.manager.loggerDict]
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).propagate) for name in present}
    saved_progress_level = progress_logger.level
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in present:  # their records reach the root handler, i.e. the log
        logging.getLogger(name).propagate = True
    progress_logger.setLevel(logging.INFO)
    progress_logger.addHandler(progress_handler)
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            yield
    finally:
        logging.captureWarnings(False)
        progress_logger.removeHandler(progress_handler)
        progress_logger.setLevel(saved_progress_level)
        root.removeHandler(handler)
        for existing in saved_root[1]:
            root.addHandler(existing)
        root.setLevel(saved_root[0])
        for name, (level, propagate) in saved.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).propagate = propagate


class OutputRelay:
    """Where the JVM's output goes: the current run's log and console. A JVM kept for several runs
    (the demo's days) writes into each run's log in turn."""

    def __init__(self, log: RunLog, show_progress: Callable[[str], None] = lambda line: None) -> None:
        self.point_to(log, show_progress)

    def point_to(self, log: RunLog, show_progress: Callable[[str], None] = lambda line: None) -> None:
        self.log = log
        self.show_progress = show_progress


def _pump(stream, relay: OutputRelay) -> None:
    throttle = ThrottledConsoleHandler(lambda message: relay.show_progress(message))
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\n")
        relay.log.write(line)
        if line.startswith(PROGRESS_PREFIX):
            throttle.emit(logging.makeLogRecord({"msg": line[len(PROGRESS_PREFIX):], "levelno": logging.INFO}))
    stream.close()


@contextmanager
def jvm_output_to(relay: OutputRelay) -> Iterator[list]:
    """A Spark JVM launched inside this block writes its stdout and stderr where ``relay`` points
    (pyspark would let it inherit the terminal). Yields a list that receives the pump threads."""
    import pyspark.core.context as spark_context

    original = spark_context.launch_gateway
    threads: list[threading.Thread] = []

    def launch_gateway(conf=None, popen_kwargs=None):
        kwargs = dict(popen_kwargs or {})
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        gateway = original(conf, kwargs)
        if gateway.proc is not None and gateway.proc.stdout is not None:
            thread = threading.Thread(target=_pump, args=(gateway.proc.stdout, relay),
                                      name="file-records-jvm-log", daemon=True)
            thread.start()
            threads.append(thread)
        return gateway

    spark_context.launch_gateway = launch_gateway
    try:
        yield threads
    finally:
        spark_context.launch_gateway = original


def jvm_alive() -> bool:
    """Whether the local Spark JVM this process started is still running (False when there is none).
    A JVM that died (out of memory, killed) takes the Connect server with it, and the client would
    retry its calls to the server for minutes."""
    from pyspark import SparkContext

    proc = getattr(SparkContext._gateway, "proc", None)
    return proc is not None and proc.poll() is None


def stop_jvm(timeout: float = 20.0) -> None:
    """End the local Spark JVM this process started, so that the embedded metastore (Derby, one
    JVM at a time) is free for the next process. ``SparkSession.stop`` stops Spark but leaves the
    JVM running until Python exits."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    try:
        gateway.shutdown()
    except Exception:  # noqa: BLE001
        pass
    if proc is not None:
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # the gateway exits on EOF of its stdin
            proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    SparkContext._gateway = None
    SparkContext._jvm = None
