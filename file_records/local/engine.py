"""The local Spark a run uses: started for one run and stopped after it, or kept for the next run of
the same process (the demo's two days), which then skips the JVM's start, the embedded metastore's
first use and the JIT's warm-up."""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Mapping, Optional

from file_records.local.class_archive import ClassArchive
from file_records.local.runlog import OutputRelay, RunLog, jvm_alive, jvm_output_to, stop_jvm
from file_records.local.spark import LocalSparkSettings, StatePaths, class_archive, connect_session


class LocalSpark:
    """Owns the local Spark session and its JVM. ``keep``: a run that succeeded leaves it running for
    the next run of this process; :meth:`close` (or leaving the ``with`` block) stops it. A failed run
    always stops it, so the next run starts clean.

    The Python workers a JVM starts keep the environment it started with, tokens included: keep it
    only for runs with the same credentials (the demo's days share one pair of tokens)."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep
        self._session = None
        self._started_for: Optional[tuple] = None
        self._conf_keys: set[str] = set()
        self._relay: Optional[OutputRelay] = None
        self._log: Optional[RunLog] = None
        self._archive: Optional[ClassArchive] = None
        self._runs_succeeded = True

    def __enter__(self) -> "LocalSpark":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def session(self, paths: StatePaths, settings: LocalSparkSettings, conf: Mapping[str, str], log: RunLog,
                say: Callable[[str], None] = lambda line: None):
        """A session for a run: the kept one when it was started for the same state directory and
        settings and its JVM is alive, else a new one. Its output goes to this run's ``log``."""
        started_for = (paths.root, settings)
        if self._session is not None and (self._started_for != started_for or not jvm_alive()):
            self.close()
        self._log = log
        if self._session is not None:
            self._relay.point_to(log, say)
            for key in self._conf_keys - set(conf):
                self._session.conf.unset(key)
            for key, value in conf.items():
                self._session.conf.set(key, value)
            self._conf_keys = set(conf)
            log.write("local Spark kept from this process's previous run: no start", echo=False)
            return self._session
        starting = time.monotonic()
        archive = class_archive(settings)
        log.write(f"class archive: {archive.status() if archive is not None else 'off'}", echo=False)
        relay = OutputRelay(log, say)
        try:
            with jvm_output_to(relay):
                session = connect_session(paths, settings, extra_conf=conf, archive=archive)
        except Exception:
            stop_jvm()
            raise
        self._session, self._started_for, self._relay, self._archive = session, started_for, relay, archive
        self._conf_keys, self._runs_succeeded = set(conf), True
        log.write(f"local Spark started in {time.monotonic() - starting:.1f} s", echo=False)
        return session

    def interrupt(self) -> None:
        """Stop the jobs of a failed run now, not after the engine's own retries."""
        if self._session is not None:
            with contextlib.suppress(Exception):
                self._session.interruptAll()

    def run_ended(self, succeeded: bool, completed_for_archive: bool) -> None:
        """After each run: ``completed_for_archive`` is a real (not dry) run that completed, whose
        classes may go into the class archive."""
        self._runs_succeeded = self._runs_succeeded and completed_for_archive
        if not (self.keep and succeeded):
            self.close()

    def close(self) -> None:
        """Stop Spark and end its JVM: it holds the embedded metastore until it exits, and the next
        process (the demo's report, the next run) needs it."""
        if self._session is None:
            return
        session, log, archive = self._session, self._log, self._archive
        self._session = self._started_for = self._archive = None
        if log is not None and log.closed:
            log = RunLog(log.path)  # kept after its last run: that run's log records the stop
        stopping = time.monotonic()
        try:
            if jvm_alive():
                session.stop()
        finally:
            stopped = time.monotonic()
            stop_jvm()
            if log is not None:
                log.write(f"local Spark stopped in {stopped - stopping:.1f} s, its JVM exited "
                          f"{time.monotonic() - stopped:.1f} s later", echo=False)
            if archive is not None:
                # Only now is the JVM's class list complete.
                building = archive.finish(self._runs_succeeded)
                if building and log is not None:
                    log.write(building, echo=False)
            if log is not None and log is not self._log:
                log.close()
